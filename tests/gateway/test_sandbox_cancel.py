"""The sandbox SAT answers cancellations, status queries, the receptor's answers and related-CFDI queries
like SAT, on SQLite and PostgreSQL. The clock starts on Tuesday 2026-11-24 at 12:00 in Mexico City."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest
import xmlsec
from lxml import etree
from sqlalchemy import create_engine, delete, func, inspect, select

from tests.gateway.sandbox import (
    CON,
    DS,
    EMISOR,
    NO,
    NOT_FOUND,
    NS,
    OTRO,
    PAC_RFC,
    RECEPTOR,
    SIN,
    THURSDAY,
    UNKNOWN,
    egreso,
    priced,
    relating,
)
from timbra.cfdi.cancellation import (
    Folio,
    Respuesta,
    build_aceptacion_rechazo,
    build_cancelacion,
    sign_cancelacion,
    sign_element,
)
from timbra.cfdi.credentials import Credential
from timbra.clock import MEXICO_CITY
from timbra.errors import TimbraError
from timbra.gateway import AnswerResult, FolioResult, GatewayUnavailable, Pending, Related
from timbra.gateway.sandbox import SandboxGateway, verify_acuse_cancelacion
from timbra.gateway.sandbox_tables import CANCELACIONES, HECHOS, RECEIVED_CFDIS, SOLICITUDES


def xmlsec_verify(xml: bytes, cred: Credential) -> None:
    """libxmlsec1, keyed by the given certificate (not by what the document carries)."""
    root = etree.fromstring(xml)
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(cred.certificate.der, xmlsec.constants.KeyDataFormatCertDer)
    ctx.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))


def count(db, table) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


# --- without the receptor's acceptance ---------------------------------------------------------------------

@pytest.mark.parametrize("amount, total, es_cancelable, estatus, estado", [
    ("862.07", "1000.00", SIN, "Cancelado sin aceptación", "Cancelado"),   # fr. I: up to $1,000.00
    ("862.08", "1000.01", CON, "En proceso", "Vigente"),
])
def test_total_up_to_1000_cancels_without_acceptance(amount, total, es_cancelable, estatus, estado, sat_side):
    stamp = sat_side.issue(priced(amount), conceptos=1)
    assert stamp.doc.get("Total") == total
    sat_side.move_to(THURSDAY)
    assert sat_side.state(stamp) == ("Vigente", es_cancelable, "")
    assert sat_side.cancel_one(stamp) == "201"
    assert sat_side.state(stamp) == (estado, es_cancelable, estatus)


def test_egreso_cancels_without_acceptance(sat_side):
    stamp = sat_side.issue(relating("01", UNKNOWN, comprobante="E"))
    sat_side.move_to(THURSDAY)
    assert sat_side.cancel_one(stamp) == "201"
    assert sat_side.state(stamp) == ("Cancelado", SIN, "Cancelado sin aceptación")


@pytest.mark.parametrize("local, expected", [
    (datetime(2026, 11, 25, 23, 59, 59), ("Cancelado", SIN, "Cancelado sin aceptación")),  # fr. IX
    (datetime(2026, 11, 26, 0, 0, 0), ("Vigente", CON, "En proceso")),
])
def test_until_the_next_business_day_without_acceptance(local, expected, sat_side):
    stamp = sat_side.issue()
    sat_side.move_to(local)
    assert sat_side.cancel_one(stamp) == "201"
    assert sat_side.state(stamp) == expected


def test_a_cfdi_received_before_its_facts_were_recorded_counts_as_an_ingreso(sat_side, db):
    stamp = sat_side.issue(egreso(UNKNOWN))
    with db.engine.begin() as conn:
        conn.execute(delete(HECHOS).where(HECHOS.c.uuid == stamp.uuid))
    sat_side.move_to(THURSDAY)
    assert sat_side.state(stamp) == ("Vigente", CON, "")
    assert sat_side.cancel_one(stamp) == "201"
    assert sat_side.state(stamp)[2] == "En proceso"


def test_an_older_sandbox_database_gets_the_new_tables(tmp_path, clock, pac, trust, sat):
    engine = create_engine(f"sqlite:///{(tmp_path / 'old.db').as_posix()}")
    RECEIVED_CFDIS.create(engine)
    SandboxGateway(engine, clock=clock, pac_certificates=[pac.certificate], signer=sat, trust=trust)
    assert set(inspect(engine).get_table_names()) == {
        "sandbox_sat_cfdis", "sandbox_sat_hechos", "sandbox_sat_relaciones", "sandbox_sat_cancelaciones",
        "sandbox_sat_solicitudes"}
    engine.dispose()


# --- with the receptor's acceptance ------------------------------------------------------------------------

def test_accepted_by_the_receptor(sat_side):
    stamp = sat_side.issue()
    sat_side.move_to(THURSDAY)
    assert sat_side.cancel_one(stamp) == "201"
    assert sat_side.state(stamp) == ("Vigente", CON, "En proceso")
    requested = sat_side.clock.now()
    assert sat_side.gateway.pending(RECEPTOR) == [Pending(
        stamp.uuid, EMISOR, RECEPTOR, stamp.doc.get("Total"), requested,
        datetime(2026, 12, 2, tzinfo=MEXICO_CITY))]  # Fri 27, Mon 30, Tue 1: ends at Wednesday's midnight
    assert sat_side.cancel_one(stamp) == "201"  # asked again while in process: nothing changes
    assert sat_side.gateway.pending(RECEPTOR)[0].requested_at == requested
    sat_side.clock.advance(hours=5)
    assert sat_side.answer(Respuesta(stamp.uuid, "Aceptacion")) == [AnswerResult(stamp.uuid, "1000")]
    assert sat_side.state(stamp) == ("Cancelado", CON, "Cancelado con aceptación")
    assert sat_side.gateway.pending(RECEPTOR) == []
    assert sat_side.answer(Respuesta(stamp.uuid, "Rechazo")) == [AnswerResult(stamp.uuid, "1002")]
    assert sat_side.cancel_one(stamp) == "202"


def test_rejected_then_requested_again(sat_side):
    stamp = sat_side.issue()
    sat_side.move_to(THURSDAY)
    assert sat_side.cancel_one(stamp) == "201"
    assert sat_side.answer(Respuesta(stamp.uuid.lower(), "Rechazo")) == [AnswerResult(stamp.uuid, "1000")]
    assert sat_side.state(stamp) == ("Vigente", CON, "Solicitud rechazada")
    assert sat_side.gateway.pending(RECEPTOR) == []
    assert sat_side.answer(Respuesta(stamp.uuid, "Aceptacion")) == [AnswerResult(stamp.uuid, "1002")]
    sat_side.move_to(datetime(2026, 11, 30, 9, 0))  # Monday: a new request starts a new process
    assert sat_side.cancel_one(stamp) == "201"
    assert sat_side.state(stamp) == ("Vigente", CON, "En proceso")
    [pending] = sat_side.gateway.pending(RECEPTOR)
    assert (pending.requested_at, pending.deadline) == (sat_side.clock.now(), datetime(2026, 12, 4, tzinfo=MEXICO_CITY))
    assert sat_side.answer(Respuesta(stamp.uuid, "Aceptacion")) == [AnswerResult(stamp.uuid, "1000")]
    assert sat_side.state(stamp) == ("Cancelado", CON, "Cancelado con aceptación")


@pytest.mark.parametrize("local, vencido", [
    (datetime(2026, 12, 1, 23, 59, 59), False),  # still the third business day
    (datetime(2026, 12, 2, 0, 0, 0), True),
])
def test_silence_is_acceptance_after_three_business_days(local, vencido, sat_side):
    stamp = sat_side.issue()
    sat_side.move_to(THURSDAY)
    assert sat_side.cancel_one(stamp) == "201"
    sat_side.move_to(local)
    assert [p.uuid for p in sat_side.gateway.pending(RECEPTOR)] == ([] if vencido else [stamp.uuid])
    if vencido:
        assert sat_side.state(stamp) == ("Cancelado", CON, "Plazo vencido")
        assert sat_side.answer(Respuesta(stamp.uuid, "Rechazo")) == [AnswerResult(stamp.uuid, "1001")]
        assert sat_side.cancel_one(stamp) == "202"
    else:
        assert sat_side.state(stamp) == ("Vigente", CON, "En proceso")
        assert sat_side.answer(Respuesta(stamp.uuid, "Rechazo")) == [AnswerResult(stamp.uuid, "1000")]


def test_plazo_vencido_is_settled_by_any_query(sat_side, db):
    stamp = sat_side.issue()
    sat_side.move_to(THURSDAY)
    sat_side.cancel_one(stamp)
    sat_side.move_to(datetime(2026, 12, 2, 0, 0))
    with db.engine.connect() as conn:  # nothing has asked yet
        assert conn.scalar(select(CANCELACIONES.c.estatus_cancelacion)) == "En proceso"
    assert sat_side.gateway.related(stamp.uuid, RECEPTOR) == Related(stamp.uuid, (), ())
    with db.engine.connect() as conn:
        row = conn.execute(select(CANCELACIONES)).one()
    assert (row.estado, row.estatus_cancelacion, row.decided_at) == (
        "Cancelado", "Plazo vencido", datetime(2026, 12, 2, tzinfo=MEXICO_CITY))


# --- related CFDI -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["pago", "01"])
def test_a_live_related_cfdi_blocks_until_it_is_cancelled(kind, sat_side):
    invoice = sat_side.issue()
    child = sat_side.pagos(invoice) if kind == "pago" else sat_side.issue(egreso(invoice.uuid))
    assert sat_side.state(invoice) == ("Vigente", NO, "")
    assert sat_side.cancel_one(invoice) == "204"
    assert sat_side.state(invoice) == ("Vigente", NO, "")
    assert sat_side.gateway.related(invoice.uuid, EMISOR) == Related(invoice.uuid, (), ((child.uuid, kind, "Vigente"),))
    assert sat_side.gateway.related(child.uuid, RECEPTOR) == Related(child.uuid, ((invoice.uuid, kind, "Vigente"),), ())
    assert sat_side.gateway.status(child.uuid, EMISOR, RECEPTOR, child.doc.get("Total")).es_cancelable == SIN
    assert sat_side.cancel_one(child) == "201"  # the same day: fraction IX (and III for the egreso)
    sat_side.move_to(THURSDAY)
    assert sat_side.gateway.related(invoice.uuid, EMISOR).children == ((child.uuid, kind, "Cancelado"),)
    assert sat_side.state(invoice) == ("Vigente", CON, "")
    assert sat_side.cancel_one(invoice) == "201"
    assert sat_side.state(invoice) == ("Vigente", CON, "En proceso")


def test_child_and_parent_in_one_request_in_order(sat_side):
    invoice = sat_side.issue()
    child = sat_side.issue(egreso(invoice.uuid))
    first = sat_side.cancel(Folio(invoice.uuid, "02"), Folio(child.uuid, "02"))
    assert first.folios == (FolioResult(invoice.uuid, "204"), FolioResult(child.uuid, "201"))
    sat_side.clock.advance(seconds=1)
    second = sat_side.cancel(Folio(child.uuid, "02"), Folio(invoice.uuid, "02"))
    assert second.folios == (FolioResult(child.uuid, "202"), FolioResult(invoice.uuid, "201"))
    assert sat_side.state(invoice)[0] == "Cancelado"  # the same day: fraction IX


def test_related_answers_only_the_emisor_or_receptor(sat_side, otro_csd):
    old = sat_side.issue()
    new = sat_side.issue(relating("04", old.uuid, UNKNOWN))
    assert sat_side.gateway.related(new.uuid, EMISOR) == Related(
        new.uuid, tuple(sorted([(old.uuid, "04", "Vigente"), (UNKNOWN, "04", "No Encontrado")])), ())
    assert sat_side.gateway.related(new.uuid, RECEPTOR.lower()) == sat_side.gateway.related(new.uuid, EMISOR)
    assert sat_side.gateway.related(old.uuid, EMISOR) == Related(old.uuid, (), ((new.uuid, "04", "Vigente"),))
    assert sat_side.gateway.related(new.uuid, OTRO) is None
    assert sat_side.gateway.related(UNKNOWN, EMISOR) is None


# --- Motivo and FolioSustitucion ---------------------------------------------------------------------------

def test_motivo_01_with_its_substitute(sat_side):
    old = sat_side.issue()
    sat_side.move_to(THURSDAY)
    new = sat_side.issue(relating("04", old.uuid))
    assert sat_side.state(old) == ("Vigente", CON, "")  # a substitute never blocks
    assert sat_side.cancel_one(old, "01", new.uuid) == "201"
    assert sat_side.state(old) == ("Vigente", CON, "En proceso")


def test_motivo_01_with_a_wrong_substitute(sat_side, otro_csd):
    old = sat_side.issue()
    unrelated = sat_side.issue()
    other_emisor = sat_side.issue(relating("04", old.uuid), cred=otro_csd)
    assert sat_side.cancel_one(old, "01", UNKNOWN) == "208"          # SAT does not know it
    assert sat_side.cancel_one(old, "01", other_emisor.uuid) == "208"  # another emisor's
    assert sat_side.cancel_one(old, "01", unrelated.uuid) == "212"   # does not substitute it (no 04)
    assert sat_side.cancel_one(old, "04") == "204"                   # not a factura global
    assert sat_side.state(old) == ("Vigente", SIN, "")


def test_folio_rules_are_answered_per_uuid(sat_side):
    a, b, c = sat_side.issue(), sat_side.issue(), sat_side.issue()
    root = build_cancelacion(EMISOR, sat_side.clock.now(), [Folio(a.uuid, "02"), Folio(b.uuid, "02"),
                                                             Folio(c.uuid, "03")])
    folios = root.findall(f"{NS}Folios/{NS}Folio")
    folios[0].set("FolioSustitucion", UNKNOWN)   # only with Motivo 01: 209
    folios[1].set("Motivo", "01")                # 01 without FolioSustitucion: 208
    receipt = sat_side.gateway.cancel(sign_element(root, sat_side.csd))
    assert receipt.code is None
    assert receipt.folios == (FolioResult(a.uuid, "209"), FolioResult(b.uuid, "208"), FolioResult(c.uuid, "201"))
    assert [sat_side.state(s)[0] for s in (a, b, c)] == ["Vigente", "Vigente", "Cancelado"]


# --- refused folios ----------------------------------------------------------------------------------------

def test_unknown_uuid_another_emisor_and_already_cancelled(sat_side, otro_csd):
    stamp = sat_side.issue()
    other = sat_side.cancel(Folio(stamp.uuid, "02"), Folio(UNKNOWN, "02"), cred=otro_csd)
    assert (other.rfc_emisor, other.code, other.folios) == (
        OTRO, None, (FolioResult(stamp.uuid, "203"), FolioResult(UNKNOWN, "205")))
    assert sat_side.state(stamp) == ("Vigente", SIN, "")
    assert sat_side.gateway.status(UNKNOWN, EMISOR, RECEPTOR, "1") == NOT_FOUND
    assert sat_side.cancel_one(stamp) == "201"
    sat_side.clock.advance(seconds=1)
    assert sat_side.cancel_one(stamp) == "202"


@pytest.mark.parametrize("local, code, estatus", [
    (datetime(2027, 3, 31, 23, 59, 59), "201", "En proceso"),  # a persona moral: until 31 March of the next year
    (datetime(2027, 4, 1, 0, 0, 0), "210", ""),
])
def test_yearly_deadline(local, code, estatus, sat_side):
    stamp = sat_side.issue()
    sat_side.move_to(local)
    assert sat_side.cancel_one(stamp) == code
    assert sat_side.state(stamp) == ("Vigente", CON if code == "201" else NO, estatus)


# --- the request as a whole --------------------------------------------------------------------------------

def test_the_same_request_gets_the_same_acuse(sat_side, db):
    stamp = sat_side.issue()
    sat_side.move_to(THURSDAY)
    xml = sign_cancelacion(sat_side.csd, sat_side.clock.now(), [Folio(stamp.uuid, "02")])
    first = sat_side.gateway.cancel(xml)
    assert first.folios == (FolioResult(stamp.uuid, "201"),)
    sat_side.clock.advance(hours=1)
    assert sat_side.answer(Respuesta(stamp.uuid, "Aceptacion"))[0].code == "1000"
    again = sat_side.gateway.cancel(xml)
    assert again == first and again.xml == first.xml  # not 202: the answer SAT gave to these bytes
    assert count(db, SOLICITUDES) == 1
    assert sat_side.cancel_one(stamp) == "202"  # another request (another Fecha)


def test_unavailable(sat_side, db):
    stamp = sat_side.issue()
    xml = sign_cancelacion(sat_side.csd, sat_side.clock.now(), [Folio(stamp.uuid, "02")])
    sat_side.gateway.unavailable = True
    with pytest.raises(GatewayUnavailable):
        sat_side.gateway.cancel(xml)
    with pytest.raises(GatewayUnavailable):
        sat_side.answer(Respuesta(stamp.uuid, "Aceptacion"))
    assert (count(db, SOLICITUDES), count(db, CANCELACIONES)) == (0, 0)
    sat_side.gateway.unavailable = False
    assert sat_side.gateway.cancel(xml).folios == (FolioResult(stamp.uuid, "201"),)


@pytest.mark.parametrize("case, code", [("otro_rfc", "303"), ("efirma", "310"), ("tampered", "302"),
                                        ("malformed", "301"), ("expired", "304")])
def test_a_refused_request(case, code, sat_side, sandbox_ca, otro_csd, sat, db):
    stamp = sat_side.issue()
    now = sat_side.clock.now()
    root = build_cancelacion(EMISOR, now, [Folio(stamp.uuid, "02")])
    if case == "otro_rfc":
        xml = sign_element(root, otro_csd)
    elif case == "efirma":
        xml = sign_element(root, sandbox_ca.issue(EMISOR, "ESCUELA KEMPER URGATE", fiel=True,
                                                  not_before=datetime(2025, 1, 1, tzinfo=timezone.utc)))
    elif case == "expired":  # valid at the request's Fecha, expired when SAT receives it
        xml = sign_element(root, sandbox_ca.issue(EMISOR, "ESCUELA KEMPER URGATE",
                                                  not_before=datetime(2025, 1, 1, tzinfo=timezone.utc),
                                                  not_after=now + timedelta(minutes=1)))
        sat_side.clock.advance(minutes=2)
    else:
        xml = sign_element(root, sat_side.csd)
        xml = xml.replace(b'Motivo="02"', b'Motivo="03"') if case == "tampered" else xml[:-20]
    receipt = sat_side.gateway.cancel(xml)
    assert (receipt.code, receipt.folios, receipt.rfc_emisor) == (code, (), "" if case == "malformed" else EMISOR)
    acuse = etree.fromstring(receipt.xml)
    assert (acuse.get("CodEstatus"), acuse.findall(f"{NS}Folios")) == (code, [])
    assert verify_acuse_cancelacion(receipt.xml, sat.certificate)
    assert count(db, SOLICITUDES) == 0 and sat_side.state(stamp)[2] == ""


def test_cancel_with_too_many_or_repeated_folios_is_refused_whole(sat_side):
    stamp = sat_side.issue()
    root = build_cancelacion(EMISOR, sat_side.clock.now(), [Folio(stamp.uuid, "02"), Folio(UNKNOWN, "02")])
    root.findall(f"{NS}Folios/{NS}Folio")[1].set("UUID", stamp.uuid.lower())
    receipt = sat_side.gateway.cancel(sign_element(root, sat_side.csd))
    assert (receipt.code, receipt.folios) == ("T181", ())


# --- the acuse ---------------------------------------------------------------------------------------------

def test_acuse_layout_and_signature(sat_side, sat, otro_csd):
    stamp = sat_side.issue()
    sat_side.move_to(THURSDAY)
    receipt = sat_side.cancel(Folio(stamp.uuid, "02"), Folio(UNKNOWN, "03"))
    assert receipt.fecha == sat_side.clock.now()
    root = etree.fromstring(receipt.xml)
    assert root.tag == "Acuse" and root.nsmap == {"xsd": "http://www.w3.org/2001/XMLSchema",
                                                  "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    assert dict(root.attrib) == {"Fecha": "2026-11-26T12:00:00.0000000", "RfcEmisor": EMISOR}
    assert [(f.findtext(f"{NS}UUID"), f.findtext(f"{NS}EstatusUUID")) for f in root.findall(f"{NS}Folios")] == [
        (stamp.uuid, "201"), (UNKNOWN, "205")]
    signature = root.find(f"{DS}Signature")
    assert signature.get("Id") == "SelloSAT" and signature is root[-1]
    assert base64.b64decode(signature.findtext(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")) == \
        sat.certificate.der
    assert verify_acuse_cancelacion(receipt.xml, sat.certificate)
    xmlsec_verify(receipt.xml, sat)
    tampered = receipt.xml.replace(b"<EstatusUUID>205<", b"<EstatusUUID>201<")
    assert tampered != receipt.xml and not verify_acuse_cancelacion(tampered, sat.certificate)
    with pytest.raises(xmlsec.Error):
        xmlsec_verify(tampered, sat)
    assert not verify_acuse_cancelacion(receipt.xml, otro_csd.certificate)  # not SAT's key
    with pytest.raises(xmlsec.Error):
        xmlsec_verify(receipt.xml, otro_csd)
    assert not verify_acuse_cancelacion(b"<Acuse/>", sat.certificate)
    assert not verify_acuse_cancelacion(b"<Acuse", sat.certificate)


def test_unsigned_acuse_without_signer(make_gateway, certifier, make_xml, csd, clock):
    gateway = make_gateway(signer=None)
    stamp = certifier.stamp(make_xml(folio="1"))
    gateway.deliver(stamp.xml)
    receipt = gateway.cancel(sign_cancelacion(csd, clock.now(), [Folio(stamp.uuid, "02")]))
    assert receipt.folios == (FolioResult(stamp.uuid, "201"),)
    assert etree.fromstring(receipt.xml).find(f"{DS}Signature") is None


# --- the receptor's answer ---------------------------------------------------------------------------------

def test_answer_codes_per_uuid(sat_side, otro_csd):
    pending, never_requested, other_receptor = sat_side.issue(), sat_side.issue(), sat_side.issue(
        receptor={"Rfc": OTRO, "Nombre": "XENON INDUSTRIAL ARTICLES", "DomicilioFiscalReceptor": "76343",
                  "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"})
    sat_side.move_to(THURSDAY)
    assert sat_side.cancel_one(pending) == "201"
    root = build_aceptacion_rechazo(RECEPTOR, PAC_RFC, sat_side.clock.now(), [
        Respuesta(pending.uuid, "Aceptacion"), Respuesta(never_requested.uuid, "Aceptacion"),
        Respuesta(other_receptor.uuid, "Rechazo"), Respuesta(UNKNOWN, "Rechazo"),
        Respuesta("11111111-2222-3333-4444-000000000009", "Rechazo")])
    root.findall(f"{NS}Folios/{NS}UUID")[4].text = "no-es-un-uuid"
    answers = sat_side.gateway.answer(sign_element(root, sat_side.receptor))
    assert answers == [AnswerResult(pending.uuid, "1000"), AnswerResult(never_requested.uuid, "1001"),
                       AnswerResult(other_receptor.uuid, "1003"), AnswerResult(UNKNOWN, "1001"),
                       AnswerResult("no-es-un-uuid", "1005")]
    assert sat_side.state(pending)[2] == "Cancelado con aceptación"


@pytest.mark.parametrize("case, code", [("otro_rfc", "303"), ("efirma", "310"), ("tampered", "302")])
def test_a_refused_answer_raises(case, code, sat_side, sandbox_ca, otro_csd):
    stamp = sat_side.issue()
    sat_side.move_to(THURSDAY)
    sat_side.cancel_one(stamp)
    root = build_aceptacion_rechazo(RECEPTOR, PAC_RFC, sat_side.clock.now(), [Respuesta(stamp.uuid, "Aceptacion")])
    signer = {"otro_rfc": otro_csd, "tampered": sat_side.receptor,
              "efirma": sandbox_ca.issue(RECEPTOR, "UNIVERSIDAD ROBOTICA ESPAÑOLA", fiel=True,
                                         not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))}[case]
    xml = sign_element(root, signer)
    if case == "tampered":
        xml = xml.replace(b">Aceptacion<", b">Rechazo<")
    with pytest.raises(TimbraError) as exc:
        sat_side.gateway.answer(xml)
    assert exc.value.code == code
    assert sat_side.state(stamp)[2] == "En proceso"


def test_pending_lists_the_receptors_requests_oldest_first(sat_side, otro_csd):
    first, second, answered = sat_side.issue(), sat_side.issue(), sat_side.issue()
    theirs = sat_side.issue(cred=otro_csd)
    sat_side.move_to(THURSDAY)
    assert sat_side.cancel_one(second) == "201"
    sat_side.clock.advance(minutes=1)
    assert sat_side.cancel(Folio(theirs.uuid, "02"), cred=otro_csd).folios[0].code == "201"
    sat_side.clock.advance(minutes=1)
    assert sat_side.cancel(Folio(first.uuid, "02"), Folio(answered.uuid, "02")).folios[1].code == "201"
    sat_side.answer(Respuesta(answered.uuid, "Rechazo"))
    pending = sat_side.gateway.pending(RECEPTOR.lower())
    assert [(p.uuid, p.rfc_emisor, p.rfc_receptor) for p in pending] == [
        (second.uuid, EMISOR, RECEPTOR), (theirs.uuid, OTRO, RECEPTOR), (first.uuid, EMISOR, RECEPTOR)]
    thursday = THURSDAY.replace(tzinfo=MEXICO_CITY)
    assert [p.requested_at for p in pending] == [thursday + timedelta(minutes=m) for m in (0, 1, 2)]
    assert {p.deadline for p in pending} == {datetime(2026, 12, 2, tzinfo=MEXICO_CITY)}
    assert pending[0].total == second.doc.get("Total")
    assert sat_side.gateway.pending(EMISOR) == []
