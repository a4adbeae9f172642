"""Test helpers for the sandbox SAT gateway: SAT's own signing credential, a fresh sandbox, and `Sat`, the
tests' side of the conversation (issue, deliver, cancel, answer, ask), with mutations for make_xml."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from lxml import etree
from sqlalchemy import Engine

from tests.cfdi.rules.complementos.pagos20_builder import Docto, Pago, pagos_root
from tests.xmlhelp import Mutate, money, node, q, set_attrs
from timbra.cfdi.cancellation import Folio, Respuesta, sign_aceptacion_rechazo, sign_cancelacion
from timbra.cfdi.credentials import Credential
from timbra.cfdi.seal import sign_root
from timbra.clock import MEXICO_CITY, FixedClock
from timbra.gateway import AnswerResult, CancelReceipt, SatStatus
from timbra.gateway.sandbox import METADATA, SandboxGateway
from timbra.gateway.sandbox_ca import SandboxCA
from timbra.pac.stamping import Certifier, Stamp

SAT_RFC = "SAT970701NN3"


def sat_credential(ca: SandboxCA) -> Credential:
    """The certificate SAT signs its acuses with (issued by the sandbox CA for the tests)."""
    return ca.issue(SAT_RFC, "SERVICIO DE ADMINISTRACION TRIBUTARIA",
                    not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))


def empty_sandbox(engine: Engine) -> None:
    """Create the sandbox's tables and empty them: on PostgreSQL the test schema outlives a test, and
    the `db` fixture only empties timbra's own tables."""
    METADATA.create_all(engine)
    with engine.begin() as conn:
        for table in reversed(METADATA.sorted_tables):
            conn.execute(table.delete())


EMISOR, RECEPTOR, OTRO = "EKU9003173C9", "URE180429TM6", "XIA190128J61"
PAC_RFC = "SPR190613I52"
NS = "{http://cancelacfd.sat.gob.mx}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
UNKNOWN = "ABCDEF01-2345-4678-9ABC-DEF012345678"
SIN, CON, NO = "Cancelable sin aceptación", "Cancelable con aceptación", "No cancelable"
FOUND = "S - Comprobante obtenido satisfactoriamente."
NOT_FOUND = SatStatus("N - 602: Comprobante no encontrado.", "No Encontrado", "", "", "")
_folios = itertools.count(100)


@dataclass
class Sat:
    """The tests' side of the conversation: issue and deliver CFDI, cancel, answer, ask."""

    gateway: SandboxGateway
    certifier: Certifier
    make_xml: Callable[..., bytes]
    clock: FixedClock
    csd: Credential
    receptor: Credential

    def deliver(self, xml: bytes) -> Stamp:
        stamp = self.certifier.stamp(xml)
        assert self.gateway.deliver(stamp.xml).status == "recibido"
        return stamp

    def issue(self, mutate: Mutate | None = None, **kw) -> Stamp:
        return self.deliver(self.make_xml(mutate, fecha=self.clock.now(), folio=str(next(_folios)), **kw))

    def pagos(self, *paid: Stamp) -> Stamp:
        root = pagos_root(self.csd, self.clock.now(), [Pago([
            Docto(id=p.uuid, saldo_ant="1000.00", pagado="1000.00", objeto="01") for p in paid])])
        sign_root(root, self.csd)
        return self.deliver(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    def cancel(self, *folios: Folio, cred: Credential | None = None) -> CancelReceipt:
        return self.gateway.cancel(sign_cancelacion(cred or self.csd, self.clock.now(), folios))

    def cancel_one(self, stamp: Stamp, motivo: str = "02", sustitucion: str | None = None) -> str:
        receipt = self.cancel(Folio(stamp.uuid, motivo, sustitucion))
        assert receipt.code is None and [f.uuid for f in receipt.folios] == [stamp.uuid]
        return receipt.folios[0].code

    def answer(self, *answers: Respuesta, cred: Credential | None = None) -> list[AnswerResult]:
        xml = sign_aceptacion_rechazo(cred or self.receptor, self.clock.now(), answers, rfc_pac=PAC_RFC)
        return self.gateway.answer(xml)

    def status(self, stamp: Stamp) -> SatStatus:
        return self.gateway.status(stamp.uuid, EMISOR, RECEPTOR, stamp.doc.get("Total"))

    def state(self, stamp: Stamp) -> tuple[str, str, str]:
        s = self.status(stamp)
        assert (s.codigo_estatus, s.validacion_efos) == (FOUND, "200")
        return s.estado, s.es_cancelable, s.estatus_cancelacion

    def move_to(self, local: datetime) -> None:
        """Set the clock to a Mexico City wall time."""
        target = local.replace(tzinfo=MEXICO_CITY)
        self.clock.advance(seconds=(target - self.clock.now()).total_seconds())


THURSDAY = datetime(2026, 11, 26, 12, 0)  # two business days after issue: past fraction IX's window


def priced(amount: str) -> Mutate:
    """One concepto (make_xml(conceptos=1)) of `amount` plus IVA 16 %, totals recomputed."""

    def mutate(root: etree._Element) -> None:
        base = Decimal(amount)
        iva = money(base * Decimal("0.16"))
        set_attrs(node(root, "cfdi:Conceptos/cfdi:Concepto"), ValorUnitario=amount, Importe=amount)
        set_attrs(node(root, "cfdi:Conceptos/cfdi:Concepto/cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado"),
                  Base=amount, Importe=iva)
        set_attrs(node(root, "cfdi:Impuestos"), TotalImpuestosTrasladados=iva)
        set_attrs(node(root, "cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado"), Base=amount, Importe=iva)
        set_attrs(root, SubTotal=amount, Total=money(base + Decimal(iva)))

    return mutate


def relating(tipo: str, *uuids: str, comprobante: str | None = None) -> Mutate:
    """CfdiRelacionados with TipoRelacion `tipo` (and TipoDeComprobante changed, for an egreso)."""

    def mutate(root: etree._Element) -> None:
        group = etree.Element(q("CfdiRelacionados"), TipoRelacion=tipo)
        for u in uuids:
            etree.SubElement(group, q("CfdiRelacionado"), UUID=u)
        root.insert(0, group)
        if comprobante:
            root.set("TipoDeComprobante", comprobante)

    return mutate


def egreso(*relates_to: str) -> Mutate:
    return relating("01", *relates_to, comprobante="E")
