"""The Sello of a CFDI: sign (for ERPs and conexión remota) and verify (for stamping).

Verification is SAT's: cadena original from SAT's XSLT, RSA-SHA256 against the certificate carried in
the document, and that certificate must be a CSD (not an e.firma), issued by a trusted SAT CA, valid at
the Fecha of the document and at the moment of stamping, with the document's NoCertificado and the
Emisor's Rfc.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from timbra.cfdi.cadena import cadena_original
from timbra.cfdi.credentials import Certificate, Credential, CredentialError
from timbra.cfdi.document import VERSION_OF_NS, Document, parse_error
from timbra.cfdi.trust import TrustStore
from timbra.codes import finding
from timbra.errors import Finding


def sign_root(root: etree._Element, credential: Credential) -> str:
    """Seal a Comprobante element in place (NoCertificado, Certificado, Sello); returns the cadena."""
    version = root.get("Version")
    if version not in VERSION_OF_NS.values():  # SAT's cadena exists for CFDI 4.0 and 3.3 only
        shown = (version or "")[:40]
        raise parse_error(f"no es un cfdi:Comprobante con Version 4.0 o 3.3 (Version {shown!r})",
                          "Comprobante@Version",
                          detail_en=f"not a cfdi:Comprobante with Version 4.0 or 3.3 (Version {shown!r})")
    root.set("NoCertificado", credential.certificate.no_certificado)
    root.set("Certificado", credential.certificate.base64)
    root.attrib.pop("Sello", None)
    root.set("Sello", "")
    cadena = cadena_original(root, version)
    root.set("Sello", base64.b64encode(credential.sign(cadena.encode("utf-8"))).decode("ascii"))
    return cadena


def sign_xml(xml: bytes, credential: Credential) -> bytes:
    """Seal the bytes of an unsealed CFDI; the result is re-serialized as UTF-8."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(xml, parser)
    sign_root(root, credential)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass
class SealCheck:
    cadena: str
    certificate: Certificate | None
    findings: list[Finding]


@dataclass(frozen=True, eq=False)
class KnownSeal:
    """A Sello this process has just made (issuing seals what it built): the key of the certificate whose base64
    is `certificado` (the two checked to belong together) signed `cadena`, the cadena original of the tree
    `root`, and the signature is `sello`. verify_seal takes it instead of computing that cadena again and
    verifying that signature with RSA, for that very tree only and while its Sello and Certificado are the
    sealed ones; every other check of the Sello and the certificate runs as for any document."""

    root: etree._Element
    cadena: str
    sello: str
    certificado: str

    def covers(self, doc: Document) -> bool:
        root = doc.root
        return root is self.root and root.get("Sello") == self.sello and root.get("Certificado") == self.certificado


def verify_seal(doc: Document, *, trust: TrustStore, fecha: datetime | None, now: datetime,
                known: KnownSeal | None = None) -> SealCheck:
    """All the Sello/certificate findings of a document (codes 302-306, 308, CFDI40102, CFDI40106). `known`:
    the seal this process made of this document, if it did (KnownSeal)."""
    findings: list[Finding] = []
    root = doc.root
    known = known if known is not None and known.covers(doc) else None
    cadena = known.cadena if known is not None else cadena_original(root, doc.version)
    cert: Certificate | None = None
    cert_text = root.get("Certificado") or ""
    try:
        cert = Certificate.from_base64(cert_text)
    except CredentialError as exc:
        findings.append(finding("CFDI40106", "Comprobante@Certificado", detail=str(exc)))
    if cert is not None:
        no_cert = root.get("NoCertificado")
        if no_cert != cert.no_certificado:
            findings.append(finding("CFDI40106", "Comprobante@NoCertificado", value=no_cert,
                                    expected=cert.no_certificado,
                                    detail="NoCertificado no corresponde al número de serie del certificado"))
        if cert.is_fiel or not cert.is_csd:
            findings.append(finding("306", "Comprobante@Certificado",
                                    detail=f"el certificado {cert.no_certificado} es una e.firma (FIEL)"
                                    if cert.is_fiel else "el certificado no tiene los usos de un CSD"))
        if trust.issuer_of(cert) is None:
            findings.append(finding("308", "Comprobante@Certificado",
                                    detail=f"el certificado {cert.no_certificado} no fue emitido por una "
                                           "autoridad certificadora del SAT de confianza"))
        emisor_rfc = doc.emisor.get("Rfc") if doc.emisor is not None else None
        if emisor_rfc is not None and emisor_rfc.upper() != cert.rfc:
            findings.append(finding("303", "Emisor@Rfc", value=emisor_rfc, expected=cert.rfc))
        if not cert.valid_at(now):
            findings.append(finding("304", "Comprobante@Certificado",
                                    detail=f"vigencia {cert.not_before:%Y-%m-%d} a {cert.not_after:%Y-%m-%d}"))
        if fecha is not None and not cert.valid_at(fecha):
            findings.append(finding("305", "Comprobante@Fecha", value=root.get("Fecha"),
                                    expected=f"{cert.not_before.isoformat()} .. {cert.not_after.isoformat()}"))
    sello_text = root.get("Sello") or ""
    try:
        sello = base64.b64decode("".join(sello_text.split()), validate=True)
    except (binascii.Error, ValueError):
        sello = b""
    if not sello:
        findings.append(finding("302", "Comprobante@Sello", detail="el Sello no es base64 válido o está vacío"))
    elif cert is not None:
        key_bytes = (cert.public_key.key_size + 7) // 8 if _rsa(cert) else None
        if key_bytes is not None and len(sello) != key_bytes:
            findings.append(finding("302", "Comprobante@Sello",
                                    detail=f"el Sello mide {len(sello)} bytes; la llave del certificado "
                                           f"produce {key_bytes}"))
        elif known is None and not cert.verify(sello, cadena.encode("utf-8")):
            findings.append(finding("CFDI40102", "Comprobante@Sello",
                                    detail="el Sello no corresponde a la cadena original del comprobante "
                                           "con el certificado incluido"))
    return SealCheck(cadena, cert, findings)


def _rsa(cert: Certificate) -> bool:
    try:
        _ = cert.public_key  # parses the key: a certificate without an RSA key raises
        return True
    except CredentialError:
        return False
