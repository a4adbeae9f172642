"""build.seal: what issuing hands the stamp path (the sealed bytes, their parsed tree, the seal it made) is what
the stamp path would have made of those bytes itself, and the seal it trusts covers that very tree only: every
finding a document gets without it, it gets with it."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from lxml import etree

from tests.conftest import NOW
from tests.xmlhelp import node
from timbra.build.seal import SealedDocument, seal_built
from timbra.cfdi.cadena import cadena_original, cadena_xslt_of
from timbra.cfdi.credentials import Certificate, Credential
from timbra.cfdi.document import parse
from timbra.cfdi.sample import sample_invoice
from timbra.cfdi.seal import sign_root, verify_seal
from timbra.gateway.sandbox_ca import SandboxCA
from timbra.pac.stamping import Certifier

MAX = 20 * 1024 * 1024


def built(cred: Credential, mutate=None, *, fecha=NOW, **kw) -> etree._Element:
    root = sample_invoice(cred, fecha, **kw)
    if mutate is not None:
        mutate(root)
    return root


def the_old_way(root: etree._Element, cred: Credential) -> bytes:
    sign_root(root, cred)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sealed(cred: Credential, mutate=None, **kw) -> SealedDocument:
    s = seal_built(built(cred, mutate, **kw), cred, max_bytes=MAX)
    assert s is not None
    return s


def awkward(root: etree._Element) -> None:
    """Values whose bytes need escaping or are not ASCII."""
    node(root, "cfdi:Receptor").set("Nombre", 'A & B <"DOS"> \'TRES\'\tÑ')
    for i, c in enumerate(root.iterfind(".//{*}Concepto")):
        c.set("Descripcion", f"línea {i}\nsegunda > primera & ‘comillas’ 😀\r")


@pytest.mark.parametrize("mutate", [None, awkward], ids=["plain", "awkward values"])
@pytest.mark.parametrize("conceptos", [1, 3, 40])
def test_the_bytes_are_the_old_ways_and_the_tree_is_their_parse(csd, mutate, conceptos):
    s = sealed(csd, mutate, conceptos=conceptos)
    assert s.xml == the_old_way(built(csd, mutate, conceptos=conceptos), csd)
    assert s.doc.raw is s.xml
    again = parse(s.xml)
    assert etree.tostring(s.doc.root, method="c14n") == etree.tostring(again.root, method="c14n")
    assert s.doc.root.items() == again.root.items()  # attributes in the same order
    assert (s.doc.version, s.doc.ns) == (again.version, again.ns)


def test_the_seal_is_a_true_one(csd, trust):
    """The Sello verifies against SAT's own XSLT's cadena over the bytes, with the certificate inside."""
    s = sealed(csd, awkward)
    root = etree.fromstring(s.xml)
    assert s.seal.cadena == cadena_xslt_of(root, "4.0") == cadena_original(root, "4.0")
    cert = Certificate.from_base64(root.get("Certificado"))
    assert cert.verify(base64.b64decode(root.get("Sello")), s.seal.cadena.encode("utf-8"))
    assert s.seal.sello == root.get("Sello") and s.seal.certificado == root.get("Certificado") == csd.certificate.base64
    assert verify_seal(parse(s.xml), trust=trust, fecha=None, now=NOW).findings == []


def shown(findings) -> list[tuple]:
    return [(f.code, f.node, f.value, f.expected) for f in findings]


def other(sandbox_ca: SandboxCA, **kw) -> Credential:
    return sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", **kw)


CASES = {
    "valid": lambda ca: dict(),
    "303 another RFC's certificate": lambda ca: dict(
        mutate=lambda r: node(r, "cfdi:Emisor").set("Rfc", "XIA190128J61")),
    "304 expired at stamp time": lambda ca: dict(
        cred=other(ca, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(hours=1)),
        fecha=NOW - timedelta(hours=2)),
    "305 Fecha before the certificate": lambda ca: dict(
        cred=other(ca, not_before=NOW - timedelta(hours=1)), fecha=NOW - timedelta(hours=2)),
    "306 an e.firma": lambda ca: dict(cred=other(ca, fiel=True, not_before=NOW - timedelta(days=1))),
    "308 an untrusted CA": lambda ca: dict(
        cred=SandboxCA.create(now=NOW - timedelta(days=10)).issue("EKU9003173C9", "ESCUELA KEMPER URGATE",
                                                                  not_before=NOW - timedelta(days=1))),
    "rules": lambda ca: dict(mutate=lambda r: r.set("Total", "1.00")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_finding_as_without_the_known_seal(case, csd, sandbox_ca, certifier: Certifier, verifies):
    spec = CASES[case](sandbox_ca)
    cred = spec.pop("cred", csd)
    s = sealed(cred, spec.pop("mutate", None), **spec)
    without = certifier.validate(s.xml)
    assert len(verifies) == 1  # the stamp path's own check of the seal
    known = certifier.validate_parsed(s.doc, known_seal=s.seal)
    assert len(verifies) == 1  # the seal just made is not verified again
    assert shown(known.findings) == shown(without.findings)
    assert known.cadena == without.cadena
    assert bool(without.findings) == (case != "valid")


def tampered(xml: bytes, old: bytes, new: bytes) -> bytes:
    assert xml.count(old) == 1
    return xml.replace(old, new)


def test_the_known_seal_covers_its_tree_only(csd, certifier: Certifier, verifies):
    s = sealed(csd)
    total = f' Total="{s.doc.get("Total")}"'.encode()
    # the same seal offered for other bytes: their tree is not the sealed one, so the seal is verified
    other_bytes = parse(tampered(s.xml, total, b' Total="1.00"'))
    got = certifier.validate_parsed(other_bytes, known_seal=s.seal)
    assert "CFDI40102" in [f.code for f in got.findings] and len(verifies) == 1
    # the very same bytes parsed again: another tree, verified (and valid)
    assert certifier.validate_parsed(parse(s.xml), known_seal=s.seal).findings == [] and len(verifies) == 2
    # the sealed tree with another Sello (of the right length) or another certificate: not covered
    forged = base64.b64encode(csd.sign(b"||otra cadena||")).decode("ascii")
    s.doc.root.set("Sello", forged)
    assert not s.seal.covers(s.doc)
    assert [f.code for f in certifier.validate_parsed(s.doc, known_seal=s.seal).findings] == ["CFDI40102"]
    s.doc.root.set("Sello", s.seal.sello)
    assert s.seal.covers(s.doc)
    s.doc.root.set("Certificado", other(SandboxCA.create(now=NOW - timedelta(days=10))).certificate.base64)
    assert not s.seal.covers(s.doc)


def test_where_it_does_not_apply_the_caller_seals_the_old_way(csd, sandbox_ca):
    size = len(sealed(csd).xml)
    assert seal_built(built(csd), csd, max_bytes=size) is not None
    assert seal_built(built(csd), csd, max_bytes=size - 1) is None  # within the limit until the Sello is in
    assert seal_built(built(csd), csd, max_bytes=2_000) is None  # over it before
    mismatched = Credential(csd.certificate, other(sandbox_ca, not_before=NOW - timedelta(days=1)).key)
    assert seal_built(built(csd), mismatched, max_bytes=MAX) is None
    wrong_version = built(csd)
    wrong_version.set("Version", "3.3")  # a 3.3 Version in CFDI 4.0's namespace: parse refuses it
    assert seal_built(wrong_version, csd, max_bytes=MAX) is None
    assert seal_built(built(csd, lambda r: r.set("Version", "9.9")), csd, max_bytes=MAX) is None
