"""The sandbox SAT gateway applies SAT's reception rules and answers like SAT, on SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import re
import threading
from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy import func, select

from tests.conftest import NOW
from timbra.cfdi.trust import TrustStore
from timbra.gateway import SatStatus
from timbra.gateway.sandbox import ACUSE_NS, RECEIVED_CFDIS, GatewayUnavailable, SandboxGateway, verify_acuse


def acuse_attrs(xml: bytes) -> dict[str, str]:
    el = etree.fromstring(xml)
    assert el.tag == f"{{{ACUSE_NS}}}AcuseRecepcion"
    return dict(el.attrib)


def set_attr(xml: bytes, name: str, value: str) -> bytes:
    """The bytes with one attribute's value replaced (the first one of that name)."""
    out, n = re.subn(rb'(\s' + name.encode() + rb'=")[^"]*(")', lambda m: m.group(1) + value.encode() + m.group(2),
                     xml, count=1)
    assert n == 1
    return out


def received_rows(db) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(RECEIVED_CFDIS))


def test_received_with_a_signed_acuse(gateway, certifier, make_xml, sat, db):
    stamp = certifier.stamp(make_xml(folio="1"))
    r = gateway.deliver(stamp.xml)
    assert (r.uuid, r.status, r.code, r.received_at) == (stamp.uuid, "recibido", "1", NOW)
    a = acuse_attrs(r.xml)
    assert {k: a[k] for k in ("UUID", "RfcEmisor", "RfcReceptor", "RfcProvCertif", "FechaRecepcion", "CodEstatus")} == {
        "UUID": stamp.uuid, "RfcEmisor": "EKU9003173C9", "RfcReceptor": "URE180429TM6",
        "RfcProvCertif": "SPR190613I52", "FechaRecepcion": "2026-11-24T12:00:00", "CodEstatus": "1"}
    assert a["Mensaje"] == r.message == "Comprobante recibido."
    # the Sello verifies with SAT's certificate over the fields, in order, as written here independently
    cadena = "||" + "|".join(a[k] for k in ("UUID", "RfcEmisor", "RfcReceptor", "RfcProvCertif", "FechaRecepcion",
                                             "CodEstatus", "Mensaje")) + "||"
    assert a["NoCertificado"] == sat.certificate.no_certificado
    assert sat.certificate.verify(base64.b64decode(a["Sello"]), cadena.encode())
    assert verify_acuse(r.xml, sat.certificate)
    assert not verify_acuse(set_attr(r.xml, "CodEstatus", "2"), sat.certificate)
    assert received_rows(db) == 1


def test_redelivery_returns_the_same_acuse(gateway, certifier, make_xml, clock, db):
    stamp = certifier.stamp(make_xml(folio="2"))
    first = gateway.deliver(stamp.xml)
    clock.advance(hours=100)  # past the 72 h window: SAT already has it, so it answers as before
    assert gateway.deliver(stamp.xml) == first
    assert received_rows(db) == 1


def test_concurrent_deliveries_of_one_uuid_get_one_acuse(gateway, certifier, make_xml, db):
    stamp = certifier.stamp(make_xml(folio="3"))
    barrier = threading.Barrier(6)
    receipts = []

    def deliver() -> None:
        barrier.wait()
        receipts.append(gateway.deliver(stamp.xml))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(receipts) == 6 and all(r == receipts[0] for r in receipts)
    assert received_rows(db) == 1


def test_status_needs_uuid_rfcs_and_total(gateway, certifier, make_xml):
    stamp = certifier.stamp(make_xml(folio="4"))
    gateway.deliver(stamp.xml)
    total = Decimal(stamp.doc.get("Total"))
    found = gateway.status(stamp.uuid, "EKU9003173C9", "URE180429TM6", total)
    assert (found.codigo_estatus, found.estado, found.estatus_cancelacion, found.validacion_efos) == (
        "S - Comprobante obtenido satisfactoriamente.", "Vigente", "", "200")
    assert gateway.status(stamp.uuid.lower(), "eku9003173c9", "URE180429TM6", f"{total}000") == found
    for uuid, receptor, amount in ((stamp.uuid, "URE180429TM6", total + Decimal("0.01")),
                                   (stamp.uuid, "XAXX010101000", total),
                                   (stamp.uuid, "URE180429TM6", "no es un número"),
                                   (certifier.stamp(make_xml(folio="5")).uuid, "URE180429TM6", total)):  # never sent
        assert gateway.status(uuid, "EKU9003173C9", receptor, amount) == SatStatus(
            "N - 602: Comprobante no encontrado.", "No Encontrado", "", "", "")


def forged_sello_sat(xml: bytes, pac) -> bytes:
    """A well-formed SelloSAT by the right PAC key, over another cadena: only the signature check can tell."""
    forged = base64.b64encode(pac.sign(b"||1.1|otra cadena||")).decode()
    return set_attr(xml, "SelloSAT", forged)


@pytest.mark.parametrize("case, code", [
    ("sello_sat", "505"), ("comprobante", "CFDI40102"), ("sello_cfd", "503"), ("fecha_timbrado", "502"),
    ("no_tfd", "501"), ("malformed", "301"),
])
def test_rejections(case, code, gateway, certifier, make_xml, pac, db):
    xml = make_xml(folio="6")
    stamp = certifier.stamp(xml)
    bad = {
        "sello_sat": lambda: forged_sello_sat(stamp.xml, pac),
        "comprobante": lambda: stamp.xml.replace(b'Folio="6"', b'Folio="7"'),
        "sello_cfd": lambda: set_attr(stamp.xml, "SelloCFD", stamp.doc.get("Sello")[::-1]),
        "fecha_timbrado": lambda: set_attr(stamp.xml, "FechaTimbrado", "2026-11-24T12:00:00-06:00"),
        "no_tfd": lambda: xml,
        "malformed": lambda: stamp.xml[:-30],
    }[case]()
    r = gateway.deliver(bad)
    assert (r.status, r.code) == ("rechazado", code)
    assert r.message and acuse_attrs(r.xml)["CodEstatus"] == code and acuse_attrs(r.xml)["Mensaje"] == r.message
    assert r.uuid == ("" if case in ("no_tfd", "malformed") else stamp.uuid)
    assert received_rows(db) == 0  # SAT keeps nothing of what it refused
    assert gateway.status(stamp.uuid, "EKU9003173C9", "URE180429TM6", stamp.doc.get("Total")).estado == "No Encontrado"
    # the untouched document is still received afterwards
    assert gateway.deliver(stamp.xml).status == "recibido"


def test_unknown_pac_certificate_is_rejected(make_gateway, certifier, make_xml):
    gateway = make_gateway(pac_certificates=[])
    r = gateway.deliver(certifier.stamp(make_xml(folio="8")).xml)
    assert (r.status, r.code) == ("rechazado", "504")


def test_issuer_checked_only_with_a_trust_store(make_gateway, certifier, make_xml):
    xml = certifier.stamp(make_xml(folio="9")).xml
    r = make_gateway(trust=TrustStore([])).deliver(xml)  # trusts no CA at all
    assert (r.status, r.code) == ("rechazado", "308")
    assert make_gateway(trust=None).deliver(xml).status == "recibido"


@pytest.mark.parametrize("after, status, code, fecha", [
    ({"hours": 72}, "recibido", "1", "2026-11-27T12:00:00"),
    ({"hours": 72, "seconds": 1}, "rechazado", "506", "2026-11-27T12:00:01"),
])
def test_delivery_window_is_72_hours_from_fecha_timbrado(after, status, code, fecha, gateway, certifier, make_xml,
                                                         clock):
    stamp = certifier.stamp(make_xml(folio="10"))
    clock.advance(**after)
    r = gateway.deliver(stamp.xml)
    assert (r.status, r.code) == (status, code)
    assert acuse_attrs(r.xml)["FechaRecepcion"] == fecha  # Mexico City time, like FechaTimbrado


def test_unsigned_acuse_without_signer(make_gateway, certifier, make_xml):
    r = make_gateway(signer=None).deliver(certifier.stamp(make_xml(folio="11")).xml)
    a = acuse_attrs(r.xml)
    assert r.status == "recibido" and "Sello" not in a and "NoCertificado" not in a


def test_unavailable_raises_until_back(gateway, certifier, make_xml, db):
    stamp = certifier.stamp(make_xml(folio="12"))
    gateway.unavailable = True
    with pytest.raises(GatewayUnavailable):
        gateway.deliver(stamp.xml)
    assert received_rows(db) == 0
    gateway.unavailable = False
    assert gateway.deliver(stamp.xml).status == "recibido"


def test_own_database_from_a_url(tmp_path, clock, pac, trust, certifier, make_xml):
    gateway = SandboxGateway(f"sqlite:///{(tmp_path / 'sat.db').as_posix()}", clock=clock,
                             pac_certificates=[pac.certificate], signer=None, trust=trust)
    try:
        stamp = certifier.stamp(make_xml(folio="13"))
        assert gateway.deliver(stamp.xml).status == "recibido"
        assert gateway.status(stamp.uuid, "EKU9003173C9", "URE180429TM6", stamp.doc.get("Total")).estado == "Vigente"
    finally:
        gateway.dispose()
