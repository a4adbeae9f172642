"""timbra REST desde Python / from Python (requests): stamp, status, PDF, issue and cancel.

    pip install requests
    TIMBRA_URL=https://pac.example.mx TIMBRA_API_KEY=tbk_... TIMBRA_CFDI=factura.xml \
    TIMBRA_ISSUE_JSON=issue-factura.json python timbra_rest.py
"""
import hashlib
import os
import sys

import requests

URL = os.environ["TIMBRA_URL"].rstrip("/")
session = requests.Session()
session.headers["X-API-Key"] = os.environ["TIMBRA_API_KEY"]


def check(r: requests.Response) -> dict:
    """Every error has the same shape: code, message (es), message_en, source and findings."""
    if r.status_code >= 400:
        e = r.json()
        print(f"error {r.status_code} {e['code']}: {e['message']}", file=sys.stderr)
        for f in e.get("findings", []):
            print(f"  {f['code']} {f.get('node', '')}: {f['message']}", file=sys.stderr)
        sys.exit(1)
    return r.json()


# 1. Timbrar un CFDI sellado / stamp a sealed CFDI (201; a retry with the same Idempotency-Key answers 200)
with open(os.environ["TIMBRA_CFDI"], "rb") as fh:
    document = fh.read()
r = session.post(f"{URL}/v1/stamp", data=document,
                 headers={"Content-Type": "application/xml",
                          "Idempotency-Key": hashlib.sha256(document).hexdigest()[:40]})
stamped = check(r)
uuid = stamped["uuid"]
print("stamp", r.status_code, uuid, stamped["fecha_timbrado"], "credits left:", stamped["credits_left"])
# stamped["xml"] is the stamped CFDI in base64 (ask Accept: application/xml to get the XML itself)

# 2. Estado en el SAT / status at SAT
r = session.get(f"{URL}/v1/cfdi/{uuid}/status")
print("status", r.status_code, check(r)["estado"])

# 3. PDF
r = session.get(f"{URL}/v1/cfdi/{uuid}/pdf")
if r.status_code != 200:
    check(r)
print("pdf", r.status_code, r.headers["content-type"], len(r.content), "bytes")

# 4. Emitir desde datos / issue from data (timbra seals with the account's CSD)
with open(os.environ["TIMBRA_ISSUE_JSON"], "rb") as fh:
    r = session.post(f"{URL}/v1/issue", data=fh.read(), headers={"Content-Type": "application/json"})
issued = check(r)
print("issue", r.status_code, issued["uuid"])

# 5. Cancelar / cancel (motivo 02, signed with the CSD kept in timbra)
r = session.post(f"{URL}/v1/cancel", json={"uuids": [issued["uuid"]], "motivo": "02"})
for folio in check(r)["folios"]:
    print("cancel", r.status_code, folio["uuid"], folio["code"], folio["status"])
