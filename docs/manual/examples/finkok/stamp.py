"""Finkok stamp desde Python con zeep / Finkok's stamp from Python with zeep.

    pip install zeep
    TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... TIMBRA_CFDI=factura.xml python stamp.py

Moving from Finkok: the WSDL is at the same path (/servicios/soap/stamp.wsdl); only the host changes.
"""
import os

import zeep

client = zeep.Client(os.environ["TIMBRA_URL"].rstrip("/") + "/servicios/soap/stamp.wsdl")
with open(os.environ["TIMBRA_CFDI"], "rb") as fh:
    cfdi = fh.read()

r = client.service.stamp(xml=cfdi, username=os.environ["TIMBRA_USER"], password=os.environ["TIMBRA_PASSWORD"])
if r.UUID and not r.Incidencias:
    print("stamp ok", r.UUID, r.Fecha, r.CodEstatus)  # r.xml is the stamped CFDI
else:
    # Each finding is an Incidencia: CodigoError is SAT's code (CFDI40xxx, 301-308...) or timbra's (T...)
    for i in r.Incidencias.Incidencia if r.Incidencias else []:
        print("stamp error", i.CodigoError, i.MensajeIncidencia)
    raise SystemExit(1)
