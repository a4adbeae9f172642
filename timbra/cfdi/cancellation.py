"""SAT's cancellation XML, as SAT's CancelaCFD service receives it: build, sign and verify.

`Cancelacion` (namespace http://cancelacfd.sat.gob.mx; Retenciones use their own) is the emisor's request,
`SolicitudAceptacionRechazo` the receptor's answer. Both carry an enveloped XMLDSig made with a CSD, in the
shape SAT expects: C14N 1.0 (REC-xml-c14n-20010315), rsa-sha1 with a sha1 digest, Reference URI="" with the
enveloped-signature transform only, and KeyInfo with X509Data (X509IssuerSerial, X509Certificate) and the
RSAKeyValue. The XMLDSig work is signxml's; SHA-1 is disabled there by default (it is not secure), so it is
enabled here for SAT's documents only, as signxml documents it.

Verifying a client-signed request checks, in order: the signature (302), that its certificate is a CSD and
not an e.firma (310), that the certificate's RFC is RfcEmisor / RfcReceptor (303), that it was valid at the
request's Fecha (304) and, given a trust store, that SAT (or the sandbox CA) issued it (308); then the
request's own rules: 1 to 500 folios (T180), no UUID twice (T181), Motivo 01-04 (311), FolioSustitucion
with 01 only (208, 209). Pure: no storage, no network.
"""
from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.exceptions import InvalidCertificate, InvalidInput, InvalidSignature

from timbra.cfdi.credentials import Certificate, Credential, CredentialError
from timbra.cfdi.document import (
    DEFAULT_MAX_BYTES,
    XML_ERR_RESOURCE_LIMIT,
    _parser,
    limit_error,
    refuse_instructions,
)
from timbra.cfdi.xmlerrors import schema_error, syntax_error
from timbra.clock import MEXICO_CITY
from timbra.codes import cancellation_error, error
from timbra.errors import TimbraError

if TYPE_CHECKING:
    from timbra.cfdi.trust import TrustStore

NS_CANCELACION = "http://cancelacfd.sat.gob.mx"
NS_RETENCIONES = "http://www.sat.gob.mx/esquemas/retencionpago/1"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
NS_XSD = "http://www.w3.org/2001/XMLSchema"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
MOTIVOS = {"01": "Comprobante emitido con errores con relación",
           "02": "Comprobante emitido con errores sin relación",
           "03": "No se llevó a cabo la operación",
           "04": "Operación nominativa relacionada en una factura global"}
RESPUESTAS = ("Aceptacion", "Rechazo")
MAX_FOLIOS = 500
_UUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
_FECHA_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
_DS = f"{{{NS_DS}}}"


@dataclass(frozen=True)
class Folio:
    """One UUID to cancel. FolioSustitucion only with Motivo 01 (the CFDI that replaces it)."""

    uuid: str
    motivo: str
    folio_sustitucion: str | None = None


@dataclass(frozen=True)
class Cancelacion:
    """A verified (or just built) cancellation request."""

    rfc_emisor: str
    fecha: str  # SAT's text, Mexico City time: YYYY-MM-DDThh:mm:ss
    folios: tuple[Folio, ...]
    namespace: str = NS_CANCELACION
    certificate: Certificate | None = None

    @property
    def uuids(self) -> list[str]:
        return [f.uuid for f in self.folios]


@dataclass(frozen=True)
class Respuesta:
    """The receptor's answer for one UUID: Aceptacion or Rechazo."""

    uuid: str
    respuesta: str


@dataclass(frozen=True)
class AceptacionRechazo:
    """A verified (or just built) SolicitudAceptacionRechazo."""

    rfc_receptor: str
    rfc_pac: str
    fecha: str
    folios: tuple[Respuesta, ...]
    certificate: Certificate | None = None


# ---- building and signing ------------------------------------------------------------------------------

def fecha_text(fecha: datetime | str) -> str:
    """SAT's Fecha: local Mexico City time without zone; an aware datetime is converted first."""
    if isinstance(fecha, str):
        if not _FECHA_RE.match(fecha):
            raise _malformed(f"Fecha {fecha!r}: se espera AAAA-MM-DDThh:mm:ss",
                             f"Fecha {fecha!r}: expected YYYY-MM-DDThh:mm:ss")
        return fecha
    if fecha.tzinfo is not None:
        fecha = fecha.astimezone(MEXICO_CITY)
    return fecha.strftime("%Y-%m-%dT%H:%M:%S")


def check_folios(folios: Sequence[Folio]) -> None:
    """SAT's rules for the folios of one request; raises the first broken one."""
    if not 1 <= len(folios) <= MAX_FOLIOS:
        raise error("T180", detail={"folios": len(folios), "max": MAX_FOLIOS})
    seen: set[str] = set()
    for i, f in enumerate(folios, 1):
        node = f"Folios[{i}]/Folio"
        if not _UUID_RE.match(f.uuid or ""):
            raise _malformed(f"{node}@UUID {f.uuid!r} no es un UUID", f"{node}@UUID {f.uuid!r} is not a UUID")
        if f.uuid.upper() in seen:
            raise error("T181", detail={"uuid": f.uuid, "node": node})
        seen.add(f.uuid.upper())
        if f.motivo not in MOTIVOS:
            raise cancellation_error("311", detail={"uuid": f.uuid, "motivo": f.motivo, "node": node})
        if f.motivo == "01":
            if not f.folio_sustitucion or not _UUID_RE.match(f.folio_sustitucion):
                raise cancellation_error("208", detail={"uuid": f.uuid,
                                                        "folio_sustitucion": f.folio_sustitucion or "",
                                                        "node": node})
            if f.folio_sustitucion.upper() == f.uuid.upper():
                raise cancellation_error("208", detail={"uuid": f.uuid,
                                                        "folio_sustitucion": f.folio_sustitucion,
                                                        "node": node})
        elif f.folio_sustitucion is not None:
            raise cancellation_error("209", detail={"uuid": f.uuid, "motivo": f.motivo,
                                                    "folio_sustitucion": f.folio_sustitucion, "node": node})


def build_cancelacion(rfc_emisor: str, fecha: datetime | str, folios: Sequence[Folio], *,
                      namespace: str = NS_CANCELACION) -> etree._Element:
    """The unsigned Cancelacion element: one Folios per Folio, as SAT's samples have it."""
    check_folios(folios)
    root = etree.Element(f"{{{namespace}}}Cancelacion", nsmap={None: namespace, "xsd": NS_XSD, "xsi": NS_XSI})
    root.set("RfcEmisor", rfc_emisor)
    root.set("Fecha", fecha_text(fecha))
    for f in folios:
        node = etree.SubElement(etree.SubElement(root, f"{{{namespace}}}Folios"), f"{{{namespace}}}Folio")
        node.set("UUID", f.uuid)
        node.set("Motivo", f.motivo)
        if f.folio_sustitucion:  # never an empty attribute
            node.set("FolioSustitucion", f.folio_sustitucion)
    return root


def build_aceptacion_rechazo(rfc_receptor: str, rfc_pac: str, fecha: datetime | str,
                             folios: Sequence[Respuesta]) -> etree._Element:
    """The unsigned SolicitudAceptacionRechazo element (the receptor's answer), as SAT receives it."""
    _check_respuestas(folios)
    ns = NS_CANCELACION
    root = etree.Element(f"{{{ns}}}SolicitudAceptacionRechazo", nsmap={None: ns, "xsd": NS_XSD, "xsi": NS_XSI})
    root.set("Fecha", fecha_text(fecha))
    root.set("RfcPacEnviaSolicitud", rfc_pac)
    root.set("RfcReceptor", rfc_receptor)
    for r in folios:
        node = etree.SubElement(root, f"{{{ns}}}Folios")
        etree.SubElement(node, f"{{{ns}}}UUID").text = r.uuid
        etree.SubElement(node, f"{{{ns}}}Respuesta").text = r.respuesta
    return root


class _SatSigner(XMLSigner):
    """signxml's signer with SHA-1 allowed: SAT's cancellation service requires rsa-sha1 (signxml's
    documented way to sign with a deprecated algorithm is to override this check)."""

    def check_deprecated_methods(self) -> None:
        pass


def sign_element(root: etree._Element, credential: Credential) -> bytes:
    """An enveloped XMLDSig over root in SAT's shape; the signed document's bytes (UTF-8, declaration)."""
    signer = _SatSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm=SignatureMethod.RSA_SHA1,
                        digest_algorithm=DigestAlgorithm.SHA1,
                        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0)
    signer.namespaces = {None: NS_DS}  # type: ignore[dict-item]  # <Signature xmlns="...xmldsig#">, as SAT's samples
    signed = signer.sign(root, key=credential.key.key, key_info=_key_info(credential.certificate),
                         exclude_c14n_transform_element=True)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def sign_cancelacion(credential: Credential, fecha: datetime | str, folios: Sequence[Folio], *,
                     rfc_emisor: str | None = None, namespace: str = NS_CANCELACION) -> bytes:
    """A Cancelacion signed with the emisor's CSD; RfcEmisor is the certificate's RFC unless given."""
    _check_signing_credential(credential, rfc_emisor)
    root = build_cancelacion(rfc_emisor or credential.certificate.rfc, fecha, folios, namespace=namespace)
    return sign_element(root, credential)


def sign_aceptacion_rechazo(credential: Credential, fecha: datetime | str, folios: Sequence[Respuesta], *,
                            rfc_pac: str, rfc_receptor: str | None = None) -> bytes:
    """A SolicitudAceptacionRechazo signed with the receptor's CSD."""
    _check_signing_credential(credential, rfc_receptor)
    root = build_aceptacion_rechazo(rfc_receptor or credential.certificate.rfc, rfc_pac, fecha, folios)
    return sign_element(root, credential)


def _check_signing_credential(credential: Credential, rfc: str | None) -> None:
    cert = credential.certificate
    if not cert.is_csd:
        raise cancellation_error("310", detail={"no_certificado": cert.no_certificado})
    if rfc is not None and rfc.upper() != cert.rfc:
        raise cancellation_error("303", detail={"rfc": rfc, "rfc_certificado": cert.rfc})


def _key_info(cert: Certificate) -> etree._Element:
    ki = etree.Element(_DS + "KeyInfo", nsmap={None: NS_DS})
    data = etree.SubElement(ki, _DS + "X509Data")
    issuer_name = _issuer_name(cert)
    if issuer_name is not None:
        serial = etree.SubElement(data, _DS + "X509IssuerSerial")
        etree.SubElement(serial, _DS + "X509IssuerName").text = issuer_name
        etree.SubElement(serial, _DS + "X509SerialNumber").text = str(cert.x509.serial_number)
    etree.SubElement(data, _DS + "X509Certificate").text = cert.base64
    numbers = cert.public_key.public_numbers()
    rsa_value = etree.SubElement(etree.SubElement(ki, _DS + "KeyValue"), _DS + "RSAKeyValue")
    etree.SubElement(rsa_value, _DS + "Modulus").text = _b64int(numbers.n)
    etree.SubElement(rsa_value, _DS + "Exponent").text = _b64int(numbers.e)
    return ki


def _issuer_name(cert: Certificate) -> str | None:
    try:
        return cert.x509.issuer.rfc4514_string()
    except ValueError:  # a name cryptography cannot read (SAT's Latin-1 strings): X509Certificate is enough
        return None


def _b64int(n: int) -> str:
    return base64.b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).decode("ascii")


def _int_b64(text: str) -> int:
    return int.from_bytes(base64.b64decode("".join(text.split()), validate=True), "big")


# ---- verifying ------------------------------------------------------------------------------------------

def verify_cancelacion(xml: bytes, *, trust: TrustStore | None = None, at: datetime | None = None,
                       max_bytes: int = DEFAULT_MAX_BYTES, folio_rules: bool = True) -> Cancelacion:
    """A client-signed Cancelacion, verified: its signature first, then its signer, then its folios.

    The certificate must have been valid at `at` (default: the request's Fecha, Mexico City time). Raises
    TimbraError (301, 302, 303, 304, 308, 310, 311, 208, 209, T180, T181). `folio_rules=False` leaves
    `check_folios` to the caller (SAT's service answers 208, 209, 311 per UUID)."""
    root = _parse(xml, max_bytes, {f"{{{NS_CANCELACION}}}Cancelacion", f"{{{NS_RETENCIONES}}}Cancelacion"})
    ns = etree.QName(root).namespace or NS_CANCELACION
    signed, cert = _verify_signature(xml, root)
    rfc = _attr(signed, "RfcEmisor")
    fecha = fecha_text(_attr(signed, "Fecha"))
    _check_signer(cert, rfc, fecha, trust, at)
    folios = []
    for i, node in enumerate(signed.iterchildren(), 1):
        if node.tag != f"{{{ns}}}Folios":
            raise _malformed(f"elemento inesperado {_local(node)} en Cancelacion",
                             f"unexpected element {_local(node)} in Cancelacion")
        children = [c for c in node.iterchildren() if isinstance(c.tag, str)]
        if len(children) != 1 or children[0].tag != f"{{{ns}}}Folio":
            raise _malformed(f"Folios[{i}] debe contener exactamente un Folio",
                             f"Folios[{i}] must hold exactly one Folio")
        f = children[0]
        sustitucion = f.get("FolioSustitucion")
        folios.append(Folio(_attr(f, "UUID"), _attr(f, "Motivo"), sustitucion))
    if folio_rules:
        check_folios(folios)
    return Cancelacion(rfc, fecha, tuple(folios), ns, cert)


def verify_aceptacion_rechazo(xml: bytes, *, trust: TrustStore | None = None, at: datetime | None = None,
                              max_bytes: int = DEFAULT_MAX_BYTES, uuid_format: bool = True) -> AceptacionRechazo:
    """A receptor-signed SolicitudAceptacionRechazo, verified like a Cancelacion (RfcReceptor is the signer).
    `uuid_format=False` leaves a malformed UUID to the caller (SAT's service answers 1005 for that UUID)."""
    root = _parse(xml, max_bytes, {f"{{{NS_CANCELACION}}}SolicitudAceptacionRechazo"})
    signed, cert = _verify_signature(xml, root)
    rfc = _attr(signed, "RfcReceptor")
    fecha = fecha_text(_attr(signed, "Fecha"))
    _check_signer(cert, rfc, fecha, trust, at)
    ns = f"{{{NS_CANCELACION}}}"
    answers = []
    for node in signed.iterchildren():
        if node.tag != ns + "Folios":
            raise _malformed(f"elemento inesperado {_local(node)} en SolicitudAceptacionRechazo",
                             f"unexpected element {_local(node)} in SolicitudAceptacionRechazo")
        answers.append(Respuesta((node.findtext(ns + "UUID") or "").strip(),
                                 (node.findtext(ns + "Respuesta") or "").strip()))
    _check_respuestas(answers, uuid_format=uuid_format)
    return AceptacionRechazo(rfc, signed.get("RfcPacEnviaSolicitud", ""), fecha, tuple(answers), cert)


def _check_respuestas(folios: Sequence[Respuesta], *, uuid_format: bool = True) -> None:
    if not 1 <= len(folios) <= MAX_FOLIOS:
        raise error("T180", detail={"folios": len(folios), "max": MAX_FOLIOS})
    seen: set[str] = set()
    for i, r in enumerate(folios, 1):
        if uuid_format and not _UUID_RE.match(r.uuid):
            raise _malformed(f"Folios[{i}]/UUID {r.uuid[:60]!r} no es un UUID",
                             f"Folios[{i}]/UUID {r.uuid[:60]!r} is not a UUID")
        if r.uuid.upper() in seen:
            raise error("T181", detail={"uuid": r.uuid})
        seen.add(r.uuid.upper())
        if r.respuesta not in RESPUESTAS:
            raise _malformed(f"Folios[{i}]/Respuesta {r.respuesta[:60]!r}: se espera Aceptacion o Rechazo",
                             f"Folios[{i}]/Respuesta {r.respuesta[:60]!r}: expected Aceptacion or Rechazo")


def _parse(xml: bytes, max_bytes: int, roots: Iterable[str]) -> etree._Element:
    if len(xml) > max_bytes:
        raise error("T107", detail={"max_bytes": max_bytes, "bytes": len(xml)})
    if b"<!DOCTYPE" in xml.upper():
        raise _malformed("el documento contiene una declaración DOCTYPE, que no se permite",
                         "the document holds a DOCTYPE declaration, which is not allowed")
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        if exc.code == XML_ERR_RESOURCE_LIMIT:
            raise limit_error(exc) from None
        e = syntax_error(exc)  # never libxml2's own words
        raise _malformed(f"XML mal formado: {e.es}", f"malformed XML: {e.en}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _malformed("el documento contiene una declaración DOCTYPE, que no se permite",
                         "the document holds a DOCTYPE declaration, which is not allowed")
    try:
        refuse_instructions(xml, root)
    except TimbraError as exc:
        raise _malformed(exc.detail.get("reason", ""), exc.detail.get("reason_en")) from None
    if root.tag not in roots:
        tag = etree.QName(root).localname if isinstance(root.tag, str) else "?"
        raise _malformed(f"elemento raíz inesperado {tag[:80]}", f"unexpected root element {tag[:80]}")
    return root


def _verify_signature(xml: bytes, root: etree._Element) -> tuple[etree._Element, Certificate]:
    """signxml checks the signature with the certificate in KeyInfo; the signed content is what is read."""
    sigs = root.findall(_DS + "Signature")
    if len(sigs) != 1 or len(root.findall(f".//{_DS}Signature")) != 1:
        raise _bad_seal("se espera exactamente un ds:Signature, hijo del elemento raíz",
                        "exactly one ds:Signature is expected, a child of the root element")
    certs = sigs[0].findall(f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate")
    if len(certs) != 1:
        raise _bad_seal("se espera un X509Certificate en KeyInfo/X509Data",
                        "one X509Certificate is expected in KeyInfo/X509Data")
    try:
        cert = Certificate.from_base64(certs[0].text or "")
        key = cert.public_key
    except CredentialError as exc:
        raise _bad_seal(f"certificado ilegible: {exc}", "the certificate cannot be read") from exc
    _check_key_value(sigs[0], key)
    config = SignatureConfiguration(signature_methods=frozenset({SignatureMethod.RSA_SHA1}),
                                    digest_algorithms=frozenset({DigestAlgorithm.SHA1}),
                                    expect_references=1, ignore_ambiguous_key_info=True,
                                    # the moment the certificate must be valid at is timbra's rule (304, below),
                                    # not signxml's "now": a request is checked as of its Fecha
                                    verification_time=cert.not_before)
    verifier = XMLVerifier()
    # libxml2's inclusive C14N of a subtree writes xmlns="" on children whose default namespace (ds) is
    # declared on an ancestor below a different default (SAT's namespace): signxml's documented legacy
    # switch drops it (signxml issue #193). Every element of these documents is namespaced.
    verifier.excise_empty_xmlns_declarations = True
    try:
        result = verifier.verify(root, x509_cert=cert.x509, expect_config=config)
    except (InvalidSignature, InvalidInput, InvalidCertificate) as exc:
        raise _bad_seal(f"la firma no es válida ({type(exc).__name__})",
                        f"the signature is not valid ({type(exc).__name__})") from exc
    except etree.DocumentInvalid as exc:  # signxml checks ds:Signature against XMLDSig's schema
        first = exc.error_log.last_error if exc.error_log else None
        e = schema_error(first) if first is not None else None
        raise _bad_seal(f"ds:Signature no sigue el esquema de XMLDSig{': ' + e.es if e else ''}",
                        f"ds:Signature does not follow XMLDSig's schema{': ' + e.en if e else ''}") from None
    except (etree.LxmlError, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        # a signature signxml cannot even read (text where elements go, odd transforms): not a valid seal
        raise _bad_seal(f"la firma no se puede leer ({type(exc).__name__})",
                        f"the signature cannot be read ({type(exc).__name__})") from None
    signed = result.signed_xml  # type: ignore[union-attr]
    if signed is None or signed.tag != root.tag:
        raise _bad_seal("la firma no cubre el documento completo (Reference URI=\"\")",
                        "the signature does not cover the whole document (Reference URI=\"\")")
    return signed, cert


def _check_key_value(sig: etree._Element, key: rsa.RSAPublicKey) -> None:
    """A KeyValue beside the certificate must be the certificate's key (it is ambiguous otherwise)."""
    rsa_value = sig.find(f"{_DS}KeyInfo/{_DS}KeyValue/{_DS}RSAKeyValue")
    if rsa_value is None:
        return
    try:
        n = _int_b64(rsa_value.findtext(_DS + "Modulus") or "")
        e = _int_b64(rsa_value.findtext(_DS + "Exponent") or "")
    except ValueError as exc:
        raise _bad_seal("RSAKeyValue ilegible", "RSAKeyValue cannot be read") from exc
    numbers = key.public_numbers()
    if (n, e) != (numbers.n, numbers.e):
        raise _bad_seal("RSAKeyValue no es la llave del X509Certificate",
                        "RSAKeyValue is not the X509Certificate's key")


def _check_signer(cert: Certificate, rfc: str, fecha: str, trust: TrustStore | None, at: datetime | None) -> None:
    detail = {"no_certificado": cert.no_certificado, "rfc_certificado": cert.rfc}
    if cert.is_fiel or not cert.is_csd:
        raise cancellation_error("310", detail=detail)
    if cert.rfc != rfc.upper():
        raise cancellation_error("303", detail={**detail, "rfc": rfc})
    moment = at or datetime.fromisoformat(fecha).replace(tzinfo=MEXICO_CITY)
    if not cert.valid_at(moment):
        raise cancellation_error("304", detail={**detail, "at": moment.isoformat(),
                                                "not_before": cert.not_before.isoformat(),
                                                "not_after": cert.not_after.isoformat()})
    if trust is not None and trust.issuer_of(cert) is None:
        raise cancellation_error("308", detail=detail)


def _attr(node: etree._Element, name: str) -> str:
    value = node.get(name)
    if not value:
        raise _malformed(f"falta el atributo {name} en {_local(node)}",
                         f"the attribute {name} is missing in {_local(node)}")
    return value


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname[:60] if isinstance(node.tag, str) else "?"


def _malformed(reason: str, reason_en: str | None = None) -> TimbraError:
    return cancellation_error("301", detail=_reasons(reason, reason_en))


def _bad_seal(reason: str, reason_en: str | None = None) -> TimbraError:
    return cancellation_error("302", detail=_reasons(reason, reason_en))


def _reasons(reason: str, reason_en: str | None) -> dict[str, str]:
    return {"reason": reason} if reason_en is None else {"reason": reason, "reason_en": reason_en}
