"""FEL Conexión Remota desde Python con zeep: emitir desde datos (GenerarCFDI40), el PDF (ObtenerPDF40) y cancelar
(CancelarCFDIsV4) / FEL's Conexión Remota from Python: issue from data, the PDF, cancel.

    pip install zeep
    TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... python conexion_remota.py

timbra computes Importe, taxes, SubTotal, Total and Fecha (the values sent are not used) and seals with the CSD
kept for the RFC in `Cuenta`. Moving from FEL: the same path, /CR33/ConexionRemota.svc; only the host changes.
"""
import base64
import os
import time
from decimal import Decimal

import zeep
from lxml import etree  # installed with zeep

client = zeep.Client(os.environ["TIMBRA_URL"].rstrip("/") + "/CR33/ConexionRemota.svc?wsdl")
cr = client.service
credenciales = {"Cuenta": "EKU9003173C9", "Usuario": os.environ["TIMBRA_USER"],
                "Password": os.environ["TIMBRA_PASSWORD"]}

comprobante = {
    "ClaveCFDI": "FAC", "Serie": "CR", "Folio": "1", "FormaDePago": "03", "MetodoDePago": "PUE", "Moneda": "MXN",
    "Exportacion": "01", "LugarExpedicion": "06000", "Referencia": f"PED-{time.time_ns()}",
    "SubTotal": Decimal("300.00"), "Total": Decimal("348.00"),
    "Emisor": {"RegimenFiscal": "601"},
    "Receptor": {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "DomicilioFiscalReceptor": "86991",
                 "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"},
    "Conceptos": {"Concepto40R": [{
        "ClaveProdServ": "84111506", "Cantidad": Decimal("2"), "ClaveUnidad": "E48", "Unidad": "Servicio",
        "Descripcion": "Servicio de facturación", "ValorUnitario": Decimal("150.00"), "ObjetoImp": "02",
        "Traslados": {"TrasladoConcepto40R": [{"Impuesto": "002", "TipoFactor": "Tasa",
                                               "TasaOCuota": Decimal("0.160000")}]},
    }]},
}

r = cr.GenerarCFDI40(credenciales=credenciales, cfdi=comprobante)
if not r.OperacionExitosa:  # ErrorGeneral "code: message"; ErrorDetallado names the field
    raise SystemExit(f"GenerarCFDI40 error {r.ErrorGeneral}\n{r.ErrorDetallado}")
uuid = etree.fromstring(r.XML.encode()).find(".//{*}TimbreFiscalDigital").get("UUID")  # r.XML: the stamped CFDI
print("GenerarCFDI40 ok", uuid, "folio", r.FolioGenerado)

pdf = cr.ObtenerPDF40(credenciales=credenciales, uuid=uuid, nombrePlantilla="")
print("ObtenerPDF40 ok", len(base64.b64decode(pdf.PDF)), "bytes")

c = cr.CancelarCFDIsV4(credenciales=credenciales,
                       uuids={"UUIDMotivoCancelacionCR": [{"UUID": uuid, "Motivo": "02"}]})
for d in c.DetallesCancelacion.DetalleCancelacionCR:
    print("CancelarCFDIsV4", d.UUID, d.CodigoResultado)
