"""Seal a built Comprobante so that the stamp path gets it as if it had parsed the bytes itself.

    sealed = seal_built(root, credential, max_bytes=...)   # None: seal as before (sign_root, tostring)
    stamps.stamp(who, sealed.xml, parsed=sealed.doc, known_seal=sealed.seal)

The tree is serialized with its NoCertificado, its Certificado and an empty Sello (its last attribute), and
those bytes are parsed by the stamp path's own parser; the cadena is computed and signed on that parsed tree
(cfdi.seal.sign_root), and the Sello is written into the bytes in place of the empty value. Base64 needs no
escaping, so the bytes are those sign_root + tostring give, and parsing them gives that very tree with its
Sello: `doc` is what the stamp path's parse() would make of `xml`. The seal (cfdi.seal.KnownSeal) is the
fact that the credential's key, which matches its certificate, signed that tree's cadena: validation then
neither computes the cadena again nor verifies with RSA the signature just made; everything else it checks.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

from lxml import etree

from timbra.cfdi.credentials import Credential
from timbra.cfdi.document import VERSION_OF_NS, Document, parse
from timbra.cfdi.seal import KnownSeal, sign_root
from timbra.errors import TimbraError

_EMPTY_SELLO = b' Sello=""'
# Credentials whose key was found to be their certificate's (compared once: a vault keeps its credentials).
_MATCHING: weakref.WeakKeyDictionary[Credential, bool] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class SealedDocument:
    xml: bytes
    doc: Document
    seal: KnownSeal


def seal_built(root: etree._Element, credential: Credential, *, max_bytes: int) -> SealedDocument | None:
    """`root` (a Comprobante as built, unsealed) sealed with `credential`, or None when the way above does not
    apply (not CFDI 3.3/4.0, bytes the parser refuses, over `max_bytes`, a key that is not the certificate's):
    the caller then seals as before and the stamp path says what it always said."""
    if root.get("Version") not in VERSION_OF_NS.values() or not _matches(credential):
        return None
    root.set("NoCertificado", credential.certificate.no_certificado)
    root.set("Certificado", credential.certificate.base64)
    root.attrib.pop("Sello", None)
    root.set("Sello", "")  # the last attribute: the end of the root's start tag
    unsealed = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    # The root's start tag is the first '>' after the XML declaration (a serialized attribute value has no '>'
    # and no '"'), and it must end with the empty Sello.
    start = unsealed.find(b"?>") + 2
    end = unsealed.find(b">", start) if start >= 2 else -1
    if end < 0 or unsealed[end - len(_EMPTY_SELLO):end] != _EMPTY_SELLO:
        return None
    try:
        parsed = parse(unsealed, max_bytes=max_bytes)
    except TimbraError:
        return None
    if parsed.root.keys()[-1:] != ["Sello"] or parsed.root.get("Sello") != "":
        return None
    cadena = sign_root(parsed.root, credential)  # the same certificate attributes; the Sello stays the last
    sello = parsed.root.get("Sello") or ""
    xml = b"".join((unsealed[:end - 1], sello.encode("ascii"), unsealed[end - 1:]))  # ...Sello="<here>">
    if len(xml) > max_bytes:
        return None
    doc = Document(raw=xml, root=parsed.root, version=parsed.version, ns=parsed.ns)
    return SealedDocument(xml, doc, KnownSeal(parsed.root, cadena, sello, credential.certificate.base64))


def _matches(credential: Credential) -> bool:
    known = _MATCHING.get(credential)
    if known is None:
        known = _MATCHING[credential] = credential.key.matches(credential.certificate)
    return known
