"""Issuing (conexión remota): the ERP sends the data, timbra builds, seals with the emisor's CSD and stamps.

    data -> Invoice (JSON errors name the field) -> build (computes importes, taxes, totals)
         -> seal with the active CSD from the vault
         -> the very same stamp path (validation, credit, storage), whose findings then name the JSON field:
            every rule runs once, and a refused document spends nothing

Nothing is done twice: one statement finds the account's RFCs, the name registered for the Emisor and its
active CSD (whose decrypted key the vault keeps in memory); the sealed bytes reach the stamp path already
parsed, with the seal just made (build.seal: validation neither computes the cadena again nor verifies with
RSA the signature made a moment before, and checks everything else, the certificate included).

`referencia` (the ERP's own id, unique per emisor account) makes a retry return the first CFDI, whatever
the data of the retry, and lets the ERP fetch the CFDI by it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from lxml import etree
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from timbra.build.common import BuildError, Emisor, xml_incompatible
from timbra.build.invoice import Invoice, build, json_path
from timbra.build.nomina import NominaInvoice, build_nomina
from timbra.build.nomina import json_path as nomina_json_path
from timbra.build.pagos import PagosInvoice, build_pagos, pagos_json_path, related_uuids, with_related
from timbra.build.seal import seal_built
from timbra.cfdi.credentials import Credential
from timbra.cfdi.document import parse
from timbra.cfdi.nombre import sin_regimen_capital
from timbra.cfdi.seal import sign_root
from timbra.clock import SYSTEM, Clock
from timbra.codes import error, finding, validation_message
from timbra.errors import Finding, TimbraError
from timbra.pac.accounts import Principal
from timbra.pac.stamping import StampResult, StampService, validation_error
from timbra.store import repo
from timbra.store.db import Database

# A referencia is kept as an idempotency key of the account with this prefix. The space keeps it apart from
# every client's Idempotency-Key (visible ASCII only, StampService), so the two never answer for each other.
REFERENCIA_PREFIX = "referencia "
REFERENCIA_MAX = 200


@dataclass(frozen=True)
class Kind:
    """One kind of CFDI timbra issues from data: its JSON model, its builder and the way back from an XML
    node path to the JSON field."""

    model: type[BaseModel]
    build: Callable[..., etree._Element]
    json_path: Callable[[str], str]


KINDS: dict[str, Kind] = {
    "factura": Kind(Invoice, build, json_path),
    "pagos": Kind(PagosInvoice, build_pagos, pagos_json_path),
    "nomina": Kind(NominaInvoice, build_nomina, nomina_json_path),
}


class CsdSource(Protocol):
    def credential(self, account_id: int, rfc: str, s: Session | None = None) -> Credential:
        """The account's active CSD for `rfc`, decrypted (raises TimbraError when there is none)."""

    def credential_of(self, account_id: int, rfc: str, row: Any, s: Session | None = None) -> Credential:
        """credential() of the active CSD row read with repo.emisor_csds (None: the RFC has none)."""


class IssueService:
    def __init__(self, db: Database, stamps: StampService, vault: CsdSource, *, clock: Clock = SYSTEM) -> None:
        self.db = db
        self.stamps = stamps
        self.vault = vault
        self.clock = clock

    def issue(self, who: Principal, data: dict | BaseModel, referencia: str | None = None, *,
              kind: str = "factura") -> StampResult:
        """`kind`: "factura" (Ingreso/Egreso), "pagos" (Pagos 2.0) or "nomina" (Nómina 1.2)."""
        k = KINDS[kind]
        if who.kind != "emisor":
            raise error("T102", message="Solo una cuenta de emisor emite CFDI.",
                        message_en="Only an emisor account issues CFDI.")
        if referencia is not None and not 0 < len(referencia) <= REFERENCIA_MAX:
            raise error("T100", message=f"referencia: de 1 a {REFERENCIA_MAX} caracteres.",
                        message_en=f"referencia: 1 to {REFERENCIA_MAX} characters.")
        key = f"{REFERENCIA_PREFIX}{referencia}" if referencia else None
        csds = None
        if key is not None:  # the read that looks for the referencia also reads the emisor
            with self.db.reader() as s:
                earlier = self._referencia_in(s, who, key)
                if earlier is not None:
                    return earlier
                csds = repo.emisor_csds(s, who.account_id)
        invoice = data if isinstance(data, k.model) else parse_invoice(data, k.model)
        self._within_conceptos(invoice)
        if isinstance(invoice, PagosInvoice):
            invoice = self._with_related(who, invoice)
        if csds is None:
            with self.db.read() as c:  # one statement
                csds = repo.emisor_csds(c, who.account_id)
        rfc, registered, cred = self._emisor(who, invoice, csds)
        regimen = invoice.Emisor.RegimenFiscal
        if not regimen:
            raise _data_error([Finding("T131", "Falta el régimen fiscal del emisor.", "Emisor.RegimenFiscal")])
        nombre = self._emisor_nombre(rfc, invoice, cred, registered)
        try:
            with self.stamps.cpu:  # building and sealing are the CPU's, limited as the stamp's validation is
                root = k.build(invoice, emisor=Emisor(rfc, nombre, regimen), fecha=self.clock.now())
        except BuildError as exc:
            raise _data_error([_build_finding(exc)]) from None
        except ValueError:  # lxml refuses a value XML cannot hold (NUL, a control character) somewhere
            raise _data_error([_build_finding(xml_incompatible("", None))]) from None
        try:
            return self._stamp(who, root, cred, referencia_key=key, to_json=k.json_path)
        except TimbraError as exc:
            if exc.code == "T106" and key is not None:  # a twin with the same referencia committed first
                earlier = self._by_referencia(who, key)
                if earlier is not None:
                    return earlier
            raise

    def _within_conceptos(self, invoice: BaseModel) -> None:
        """T107 for more Conceptos than TIMBRA_MAX_CONCEPTOS, before anything is built."""
        limit = self.stamps.certifier.settings.max_conceptos
        n = len(getattr(invoice, "Conceptos", None) or ())
        if n > limit:
            es = f"El comprobante tiene {n} conceptos y el máximo es {limit}."
            raise error("T107", message=es, message_en=f"The document has {n} Conceptos and the maximum is {limit}.",
                        detail={"conceptos": n, "max_conceptos": limit},
                        findings=[finding("T107", "Conceptos", value=str(n), expected=f"<= {limit}", detail=es)])

    def stamp(self, who: Principal, xml: bytes, referencia: str | None = None) -> StampResult:
        """A sealed CFDI stamped under the ERP's `referencia` (FEL's TimbrarCFDI): the same namespace as
        issuing's, so a retry with the same referencia answers the first stamp whatever the bytes, and the CFDI
        is found by its referencia from any protocol (GET /v1/issue/{referencia} too)."""
        if not referencia:
            return self.stamps.stamp(who, xml)
        if not 0 < len(referencia) <= REFERENCIA_MAX:
            raise error("T100", message=f"referencia: de 1 a {REFERENCIA_MAX} caracteres.",
                        message_en=f"referencia: 1 to {REFERENCIA_MAX} characters.")
        key = f"{REFERENCIA_PREFIX}{referencia}"
        try:  # the stamp path's one read finds the referencia: the same bytes answer its stamp, other bytes T106
            return self.stamps.stamp(who, xml, referencia_key=key)
        except TimbraError as exc:
            if exc.code == "T106":  # other bytes (a retry, a twin that committed first): the referencia's stamp
                earlier = self._by_referencia(who, key)
                if earlier is not None:
                    return earlier
            raise

    def seal_and_stamp(self, who: Principal, xml: bytes) -> StampResult:
        """A CFDI without its seal (Finkok's sign_stamp): sealed with the active CSD in the vault of its
        Emisor's RFC, then the very same stamp path. Sealing is deterministic, so a retry of the same document
        is the same sealed bytes and answers the first stamp."""
        doc = parse(xml, max_bytes=self.stamps.certifier.settings.max_document_bytes)
        rfc = ((doc.emisor.get("Rfc") if doc.emisor is not None else None) or "").upper()
        with self.db.reader() as s:
            if rfc not in repo.rfcs(s, who.account_id):
                raise error("T105", detail={"rfc": rfc})
            cred = self.vault.credential(who.account_id, rfc, s)
        return self._stamp(who, doc.root, cred)

    def by_referencia(self, who: Principal, referencia: str) -> StampResult:
        found = self._by_referencia(who, f"{REFERENCIA_PREFIX}{referencia}")
        if found is None:
            raise error("T103", detail={"referencia": referencia})
        return found

    # --- internals --------------------------------------------------------------------------------------

    def _stamp(self, who: Principal, root: etree._Element, cred: Credential, **kw: Any) -> StampResult:
        """Seal `root` with `cred` and stamp it, the stamp path taking the parsed document and the seal from
        here (build.seal); sealed and stamped the way it always was when that way does not apply."""
        with self.stamps.cpu:  # released before the stamp, which takes it for its own validation
            sealed = seal_built(root, cred, max_bytes=self.stamps.certifier.settings.max_document_bytes)
            if sealed is None:
                sign_root(root, cred)
                xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        if sealed is None:
            return self.stamps.stamp(who, xml, **kw)
        return self.stamps.stamp(who, sealed.xml, parsed=sealed.doc, known_seal=sealed.seal, **kw)

    def _by_referencia(self, who: Principal, key: str) -> StampResult | None:
        with self.db.reader() as s:
            return self._referencia_in(s, who, key)

    def _referencia_in(self, s: Session, who: Principal, key: str) -> StampResult | None:
        rec = repo.idempotency(s, who.account_id, key)
        if rec is None:
            return None
        return self.stamps.replay(s, who.account_id, repo.cfdi(s, who.account_id, rec.uuid))

    def _with_related(self, who: Principal, invoice: PagosInvoice) -> PagosInvoice:
        """The paid CFDI that this account stamped give their documents' own bases (build_pagos.with_related):
        a document with IVA 16 %, 0 % and Exento lines is apportioned line by line, not refused."""
        uuids = related_uuids(invoice)
        if not uuids:
            return invoice
        related = {}
        with self.db.reader() as s:
            for uuid in sorted(uuids):
                xml = repo.cfdi_xml(s, who.account_id, uuid)
                if xml is not None:
                    related[uuid] = parse(xml).root
        try:
            return with_related(invoice, related)
        except BuildError as exc:
            raise _data_error([_build_finding(exc)]) from None
        except ValueError:  # lxml refuses a value XML cannot hold (NUL, a control character) somewhere
            raise _data_error([_build_finding(xml_incompatible("", None))]) from None

    def _emisor(self, who: Principal, invoice, csds: list) -> tuple[str, str | None, Credential]:
        """The Emisor's RFC (one of the account's), the name the account registered for it when the JSON gives
        no Emisor.Nombre, and its active CSD from the vault, from the account's RFCs and CSDs (`csds`:
        repo.emisor_csds)."""
        given = " ".join((invoice.Emisor.Nombre or "").split())
        rfcs = [r.rfc for r in csds]
        wanted = (invoice.Emisor.Rfc or "").upper()
        if wanted:
            if wanted not in rfcs:
                raise error("T105", detail={"rfc": wanted})
            rfc = wanted
        elif len(rfcs) == 1:
            rfc = rfcs[0]
        else:
            raise _data_error([Finding("T131", "La cuenta tiene varios RFC: indique Emisor.Rfc.", "Emisor.Rfc",
                                       expected=", ".join(rfcs))])
        row = csds[rfcs.index(rfc)]
        cred = self.vault.credential_of(who.account_id, rfc, row if row.id is not None else None)
        return rfc, None if given else (row.nombre or None), cred

    def _emisor_nombre(self, rfc: str, invoice, cred: Credential, registered: str | None) -> str:
        """Emisor@Nombre: the JSON's Emisor.Nombre; else the name the account registered for the RFC
        (`registered`); else the CSD's name, without the régimen de capital for a persona moral (CFDI 4.0 wants
        SAT's registered name: CFDI40138)."""
        given = " ".join((invoice.Emisor.Nombre or "").split())
        if given:
            return given
        if registered:
            return registered
        return _csd_nombre(cred.certificate.name, len(rfc) == 12)


@lru_cache(maxsize=1024)
def _csd_nombre(name: str, moral: bool) -> str:
    """A CSD's name as Emisor@Nombre, once per name (sin_regimen_capital takes ~50 µs)."""
    name = " ".join(name.split())
    return sin_regimen_capital(name) if moral else name


def parse_invoice(data: dict, model: type[BaseModel] = Invoice) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _data_error([Finding("T130", validation_message(e)[0], _loc(e["loc"]),
                                   value=None if isinstance(e.get("input"), dict | list) else _short(e.get("input")),
                                   message_en=validation_message(e)[1])
                           for e in exc.errors()]) from None


def _loc(loc: tuple) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _short(value: object) -> str | None:
    return None if value is None else str(value)[:200]


def _build_finding(exc: BuildError) -> Finding:
    return Finding("T131", exc.message, exc.path, value=None if exc.value is None else str(exc.value),
                   message_en=exc.message_en)


def _data_error(findings: list[Finding]) -> TimbraError:
    """T130/T131 for the data itself; SAT's own code when SAT's rules refuse the built document."""
    if findings[0].code in ("T130", "T131"):
        return error(findings[0].code, findings=findings)
    return validation_error(findings)

