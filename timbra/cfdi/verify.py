"""Verify a received, stamped CFDI, as its receptor would: every check with its own result.

Checks, each "ok", "failed" or "not_verifiable":
- estructura: well-formed UTF-8 and SAT's schemas, the TimbreFiscalDigital 1.1 included (301);
- timbre: there is a TFD (T163) and its SelloCFD is the Comprobante's Sello (T164);
- sello: the Comprobante's Sello over its cadena original with the certificate it carries (302, CFDI40102);
- certificado: a CSD issued by SAT's CA, of the Emisor, valid at Fecha and at FechaTimbrado (303-306, 308,
  CFDI40106);
- sello_sat: the TFD's SelloSAT with the PAC certificate named by NoCertificadoSAT, among the PAC certificates
  the caller knows; an unknown one is "not_verifiable" (T165), not a failure; T166 a bad SelloSAT, T167 a PAC
  certificate not valid at FechaTimbrado;
- reglas: the Anexo 20 matrices, the Fecha window (401, 403) and the versions and complements in force, all as
  of FechaTimbrado (the stamp's own moment; without a TFD, as of Fecha). The document's own TFD is not a
  previous stamp: no 307.
Pure: the trust anchors, the PAC certificates and SAT's lists come in as arguments.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

from lxml import etree

from timbra.cfdi.credentials import Certificate
from timbra.cfdi.document import Document, parse
from timbra.cfdi.tfd import MEXICO_CITY, tfd_cadena
from timbra.cfdi.validate import Options, fecha_utc, local_fecha, validate_document
from timbra.cfdi.xmlerrors import processing_finding_texts
from timbra.codes import finding
from timbra.errors import Finding, TimbraError

Status = Literal["ok", "failed", "not_verifiable"]
CHECKS = ("estructura", "timbre", "sello", "certificado", "sello_sat", "reglas")
_SELLO = frozenset({"302", "CFDI40102", "CFDI33102"})
_CERTIFICADO = frozenset({"303", "304", "305", "306", "308", "CFDI40106", "CFDI33105"})


@dataclass
class Check:
    name: str
    status: Status
    findings: list[Finding] = field(default_factory=list)
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.name, "status": self.status,
                               "findings": [f.as_dict() for f in self.findings]}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class Verification:
    checks: list[Check]
    uuid: str | None = None
    fecha_timbrado: str | None = None
    no_certificado_sat: str | None = None
    as_of: datetime | None = None

    @property
    def verified(self) -> bool:
        """Every check passed: nothing failed and nothing was left unverifiable."""
        return all(c.status == "ok" for c in self.checks)

    @property
    def findings(self) -> list[Finding]:
        return [f for c in self.checks for f in c.findings]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {"verified": self.verified, "uuid": self.uuid, "fecha_timbrado": self.fecha_timbrado,
                "no_certificado_sat": self.no_certificado_sat,
                "as_of": self.as_of.isoformat() if self.as_of else None,
                "checks": [c.as_dict() for c in self.checks]}


def _result(name: str, findings: list[Finding]) -> Check:
    return Check(name, "failed" if findings else "ok", findings)


def _unverifiable(name: str, why: str) -> Check:
    return Check(name, "not_verifiable", [], why)


def fecha_timbrado_utc(tfd: etree._Element | None) -> datetime | None:
    """FechaTimbrado (Mexico City local time, no offset) as an aware UTC time."""
    naive = local_fecha(tfd.get("FechaTimbrado") if tfd is not None else None)
    return None if naive is None else naive.replace(tzinfo=MEXICO_CITY).astimezone(timezone.utc)


def _timbre(doc: Document) -> Check:
    tfd = doc.tfd
    if tfd is None:
        return Check("timbre", "failed", [finding("T163", "Complemento")])
    out = []
    sello_cfd = "".join((tfd.get("SelloCFD") or "").split())
    sello = "".join((doc.get("Sello") or "").split())
    if sello_cfd != sello:
        out.append(finding("T164", "Complemento/TimbreFiscalDigital@SelloCFD", value=sello_cfd[:40] + "...",
                           expected=sello[:40] + "..."))
    if fecha_timbrado_utc(tfd) is None:
        out.append(finding("301", "Complemento/TimbreFiscalDigital@FechaTimbrado", value=tfd.get("FechaTimbrado"),
                           detail="FechaTimbrado no es una fecha AAAA-MM-DDThh:mm:ss"))
    return _result("timbre", out)


def _sello_sat(doc: Document, pac_certificates: dict[str, Certificate], when: datetime | None) -> Check:
    tfd = doc.tfd
    if tfd is None:
        return _unverifiable("sello_sat", "el CFDI no tiene TimbreFiscalDigital")
    node = "Complemento/TimbreFiscalDigital"
    no_cert = (tfd.get("NoCertificadoSAT") or "").strip()
    cert = pac_certificates.get(no_cert)
    if cert is None:
        f = finding("T165", f"{node}@NoCertificadoSAT", value=no_cert,
                    detail=f"el certificado {no_cert} del PAC {tfd.get('RfcProvCertif')} no está entre los "
                           "certificados de PAC que timbra conoce "
                           f"({', '.join(sorted(pac_certificates)) or 'ninguno'}); "
                           "el SelloSAT no se puede verificar aquí")
        return Check("sello_sat", "not_verifiable", [f], "certificado del PAC desconocido")
    out = []
    try:
        sello_sat = base64.b64decode("".join((tfd.get("SelloSAT") or "").split()), validate=True)
    except (binascii.Error, ValueError):
        sello_sat = b""
    if not sello_sat or not cert.verify(sello_sat, tfd_cadena(tfd).encode("utf-8")):
        out.append(finding("T166", f"{node}@SelloSAT",
                           detail=f"verificado con el certificado {no_cert} sobre la cadena original del timbre"))
    if when is not None and not cert.valid_at(when):
        out.append(finding("T167", f"{node}@FechaTimbrado", value=tfd.get("FechaTimbrado"),
                           expected=f"{cert.not_before.isoformat()} .. {cert.not_after.isoformat()}"))
    return _result("sello_sat", out)


def verify(data: bytes, opts: Options, pac_certificates: dict[str, Certificate]) -> Verification:
    """Verify a stamped CFDI; never raises for bad input. `opts.now` is replaced by FechaTimbrado (or Fecha)."""
    try:
        doc = parse(data, max_bytes=opts.max_bytes)
    except TimbraError as exc:
        checks = [Check("estructura", "failed", list(exc.findings))]
        checks += [_unverifiable(n, "el documento no se pudo leer") for n in CHECKS[1:]]
        return Verification(checks)
    tfd = doc.tfd
    as_of = fecha_timbrado_utc(tfd) or fecha_utc(doc, opts.catalogs)
    timbre = _timbre(doc)
    sello_sat = _sello_sat(doc, pac_certificates, as_of)
    verification = Verification([], doc.uuid, tfd.get("FechaTimbrado") if tfd is not None else None,
                                tfd.get("NoCertificadoSAT") if tfd is not None else None, as_of)
    if as_of is None:
        why = "ni FechaTimbrado ni Fecha permiten saber a qué fecha validar"
        verification.checks = [_unverifiable("estructura", why), timbre, _unverifiable("sello", why),
                               _unverifiable("certificado", why), sello_sat, _unverifiable("reglas", why)]
        return verification
    try:
        result = validate_document(doc, replace(opts, now=as_of, received=True))
        found, schema_ok = result.findings, result.cadena is not None  # no cadena: stopped at the schemas
    except etree.LxmlError as exc:
        es, en = processing_finding_texts(exc)
        found, schema_ok = [finding("301", "Comprobante", detail=es, detail_en=en)], False
    if not schema_ok:
        why = "la estructura del documento no es válida"
        verification.checks = [_result("estructura", found), timbre, _unverifiable("sello", why),
                               _unverifiable("certificado", why), sello_sat, _unverifiable("reglas", why)]
        return verification
    verification.checks = [
        _result("estructura", []), timbre,
        _result("sello", [f for f in found if f.code in _SELLO]),
        _result("certificado", [f for f in found if f.code in _CERTIFICADO]),
        sello_sat,
        _result("reglas", [f for f in found if f.code not in _SELLO | _CERTIFICADO]),
    ]
    return verification
