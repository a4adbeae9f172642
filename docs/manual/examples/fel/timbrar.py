"""FEL Timbrado: TimbrarCFDI desde Python con zeep / FEL's TimbrarCFDI from Python with zeep.

    pip install zeep
    TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... TIMBRA_CFDI=factura.xml python timbrar.py

Moving from FEL: the client is built from the WSDL timbra serves at the same path; only the host changes.
"""
import os
import time

import zeep

wsdl = os.environ["TIMBRA_URL"].rstrip("/") + "/WSTimbrado33/WSCFDI33.svc?wsdl"
client = zeep.Client(wsdl)
with open(os.environ["TIMBRA_CFDI"], encoding="utf-8") as fh:
    cfdi = fh.read()

r = client.service.TimbrarCFDI(usuario=os.environ["TIMBRA_USER"], password=os.environ["TIMBRA_PASSWORD"],
                               cadenaXML=cfdi, referencia=f"ERP-{time.time_ns()}")
if r.OperacionExitosa:
    print("TimbrarCFDI ok", r.Timbre.UUID, r.Timbre.FechaTimbrado, "creditos:", r.CreditosRestantes)
    # r.XMLResultado is the stamped CFDI
else:
    # CodigoRespuesta: SAT's code (301-308, 401-403, CFDI40xxx) or timbra's (T...); the findings one per line
    print("TimbrarCFDI error", r.CodigoRespuesta, r.MensajeError, r.MensajeErrorDetallado, sep="\n")
    raise SystemExit(1)
