"""The stamp path (timbrado), one straight line owned by `StampService.stamp`:

    1. idempotency: the same Idempotency-Key or the same bytes from the account -> the stored answer
    2. pure validation (cfdi.validate): structure, Sello and certificate, Fecha, every matrix rule
    3. policy: the Emisor's RFC belongs to the account (T105, before anything about other accounts is
       looked at); 307 through the store (the same Sello stamped before: its owner gets the stored stamp,
       anyone else a 307 that names no UUID); the Confirmación key is spent
    4. TFD: the PAC signs
    5. one transaction: the CFDI, its XML, the delivery outbox row, the idempotency key and one credit
       -> commit -> answer -> wake the delivery worker

`Certifier` is the part without accounts or storage (validate, sign a TFD): the CLI's offline stamp, the
benchmarks and the rule tests use it alone. Issuing from data enters at step 1 with its own JSON-path
mapping, so its findings name the JSON fields, and every rule runs once.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timbra.cfdi.amounts import to_decimal
from timbra.cfdi.credentials import Credential, CredentialError
from timbra.cfdi.document import Document, parse
from timbra.cfdi.seal import KnownSeal
from timbra.cfdi.tfd import MEXICO_CITY, Timbre, build_tfd, fecha_timbrado, fecha_timbrado_iso, insert_tfd
from timbra.cfdi.trust import TrustStore
from timbra.cfdi.validate import Options, Validation, validate, validate_parsed
from timbra.clock import SYSTEM, Clock
from timbra.codes import CODES, error, finding
from timbra.errors import Finding, TimbraError
from timbra.pac import credits
from timbra.pac.accounts import Principal
from timbra.sat.catalogs import catalogs
from timbra.sat.padron import Contribuyente, MemoryPadron, Padron, SandboxPadron
from timbra.settings import Settings
from timbra.store import repo
from timbra.store.db import Database
from timbra.store.models import Cfdi

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")

log = logging.getLogger(__name__)
T = TypeVar("T")
JsonPaths = Callable[[str], str]
"""Maps a finding's XML node path to the field of the data it was built from (issuing)."""


def sello_digest(sello: str) -> str:
    """The key under which a Sello is remembered (307: a Sello is stamped once)."""
    return hashlib.sha256("".join(sello.split()).encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class Stamp:
    """A stamped CFDI and what a client needs from it."""

    xml: bytes
    timbre: Timbre
    doc: Document
    sello_digest: str

    @property
    def uuid(self) -> str:
        return self.timbre.uuid

    @property
    def fecha_timbrado(self) -> str:
        return self.timbre.fecha_timbrado


@dataclass(frozen=True)
class Signed:
    """A valid document with its TFD, not stored yet (StampService.prepare -> finish)."""

    stamp: Stamp
    account_id: int
    digest: str
    idempotency_key: str | None
    to_json: JsonPaths | None = None


class _Write:
    __slots__ = ("work", "order", "result", "error", "done")

    def __init__(self, work: Callable[[Connection], Any], order: int) -> None:
        self.work = work
        self.order = order
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False


class _Again(Exception):
    """A write of a batch failed in its first attempt without savepoints: run the batch again with them."""


class GroupCommit:
    """Writes of concurrent stamps in this process share one transaction and one commit (group commit): the
    commit's fsync, most of a stamp's time on a durable disk, is paid once for all that arrived while the
    previous commit ran. Every caller gets its answer only after the commit that holds its write. Each write
    runs in a savepoint when there are several, so one that fails (a twin's IntegrityError, no credits) fails
    alone; a commit that fails fails them all (nothing of theirs was stored)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cond = threading.Condition()
        self._pending: list[_Write] = []
        self._busy = False

    def run(self, work: Callable[[Connection], T], order: int = 0) -> T:
        """`work(s)`'s result once committed. `order`: writes of one batch run by it (the account), so two
        processes' transactions lock the accounts' credit rows in the same order (no deadlock)."""
        item = _Write(work, order)
        with self._cond:
            self._pending.append(item)
            while self._busy and not item.done:
                self._cond.wait()
            if not item.done:  # no commit under way: this thread commits everything pending
                self._busy = True
                batch, self._pending = self._pending, []
        if not item.done:
            try:
                self._commit(batch)
            finally:
                with self._cond:
                    for w in batch:
                        w.done = True
                    self._busy = False
                    self._cond.notify_all()
        if item.error is not None:
            raise item.error
        return item.result

    def _commit(self, batch: list[_Write]) -> None:
        ordered = sorted(batch, key=lambda w: w.order)
        if len(batch) > 1:
            # First without savepoints (two round trips a write on PostgreSQL): writes rarely fail. One that
            # does rolls the attempt back (nothing was stored, no one was answered) and the batch runs again,
            # each write in its savepoint, below. A failed commit is not retried: it fails them all.
            try:
                with self.db.write() as s:
                    try:
                        results = [w.work(s) for w in ordered]
                    except Exception as exc:
                        raise _Again from exc
            except _Again:
                pass
            except BaseException as exc:
                for w in batch:
                    w.error = exc
                return
            else:
                for w, result in zip(ordered, results, strict=True):
                    w.result = result
                return
        try:
            with self.db.write() as s:
                if len(batch) == 1:
                    batch[0].result = batch[0].work(s)
                    return
                for w in ordered:
                    try:
                        with s.begin_nested():
                            w.result = w.work(s)
                    except Exception as exc:  # this write alone is undone
                        w.error = exc
        except BaseException as exc:  # the commit (or the only write) failed: nothing was stored
            for w in batch:
                if w.error is None:
                    w.error = exc
                    w.result = None


@dataclass(frozen=True)
class StampResult:
    uuid: str
    xml: bytes
    fecha_timbrado: str
    no_certificado_sat: str
    sello_sat: str
    credits_left: int
    replayed: bool  # True: the stored answer of an earlier request; no credit was spent

    def as_dict(self) -> dict:
        return {"uuid": self.uuid, "fecha_timbrado": fecha_timbrado_iso(self.fecha_timbrado),
                "no_certificado_sat": self.no_certificado_sat, "sello_sat": self.sello_sat,
                "credits_left": self.credits_left, "replayed": self.replayed}


def validation_error(findings: list[Finding], to_json: JsonPaths | None = None) -> TimbraError:
    """One error for a document that cannot be stamped: the first finding's code, all findings (their
    nodes as JSON fields when the document was built from data)."""
    if to_json is not None:
        findings = [_json_finding(f, to_json) for f in findings]
    first = findings[0]
    c = CODES.get(first.code)
    message = first.message if c is None else c.es
    # SAT's matrix codes have SAT's Spanish text only: the English names the rule and where it failed
    en = c.en if c is not None else (first.message_en or f"The document does not meet SAT's validation {first.code}"
                                                         f"{' at ' + first.node if first.node else ''}.")
    return TimbraError(first.code, message, source="client", findings=findings, message_en=en)


def _json_finding(f: Finding, to_json: JsonPaths) -> Finding:
    return Finding(f.code, f.message, to_json(f.node), f.value, f.expected,
                   f"{f.detail + '; ' if f.detail else ''}nodo XML {f.node}", f.message_en,
                   f"{f.detail_en + '; ' if f.detail_en else ''}XML node {f.node}" if f.detail_en else None)


class Certifier:
    """The PAC's certifying engine: validates a sealed CFDI and signs its TimbreFiscalDigital. It keeps no
    record of what it stamped (the service asks the store for that). Thread-safe: RSA signing releases the
    GIL, so threads sign in parallel."""

    def __init__(self, *, pac: Credential, trust: TrustStore, clock: Clock = SYSTEM,
                 settings: Settings | None = None, rfc_prov_certif: str | None = None,
                 padron: Padron | None = None) -> None:
        self.pac = pac
        self.trust = trust
        self.clock = clock
        self.settings = settings or Settings()
        self.rfc_prov_certif = rfc_prov_certif or pac.certificate.rfc
        self.catalogs = catalogs()
        # SAT's lists for the padrón rules; None skips them (certifier_from_settings gives the configured one).
        self.padron = padron

    def options(self, now: datetime | None = None) -> Options:
        s = self.settings
        return Options(trust=self.trust, now=now or self.clock.now(), catalogs=self.catalogs,
                       stamp_window_hours=s.stamp_window_hours,
                       future_tolerance_seconds=s.future_tolerance_seconds,
                       allow_cfdi33=s.allow_cfdi33, max_bytes=s.max_document_bytes, padron=self.padron,
                       max_conceptos=s.max_conceptos)

    def validate(self, data: bytes, now: datetime | None = None) -> Validation:
        return validate(data, self.options(now))

    def warm(self) -> None:
        """Load what a process's first stamp would (schemas, the cadena's XSLT, the catalog indexes the rules
        use: c_ClaveProdServ's alone takes a few hundred ms) by validating a sample once: `timbra serve`
        calls it as each worker starts. Never fails: a problem here is the first stamp's to report."""
        from timbra.cfdi.sample import sealed_sample

        try:
            self.validate(sealed_sample(self.pac, self.clock.now()))
        except Exception:  # noqa: BLE001 - warming up must not stop a worker from starting
            log.warning("warming up the stamp path failed", exc_info=True)

    def parse(self, data: bytes) -> Document | TimbraError:
        """The document, or why it is not one (validation reports it as its finding)."""
        try:
            return parse(data, max_bytes=self.settings.max_document_bytes)
        except TimbraError as exc:
            return exc

    def validate_parsed(self, parsed: Document | TimbraError, now: datetime | None = None, *,
                        known_seal: KnownSeal | None = None) -> Validation:
        """`known_seal`: the seal this process made of `parsed` (issuing), see cfdi.seal.KnownSeal."""
        if isinstance(parsed, TimbraError):
            return Validation(parsed.findings)
        return validate_parsed(parsed, self.options(now), known_seal)

    def sign(self, doc: Document, now: datetime) -> Stamp:
        """The TFD for a valid document, inserted into its received bytes."""
        timbre = build_tfd(sello_cfd=doc.get("Sello") or "", pac=self.pac,
                           rfc_prov_certif=self.rfc_prov_certif, moment=now)
        return Stamp(insert_tfd(doc, timbre.xml), timbre, doc, sello_digest(doc.get("Sello") or ""))

    def stamp(self, data: bytes) -> Stamp:
        """Validate and sign, with no storage: for offline tools, benchmarks and tests. It cannot know what
        was stamped before (307 for a repeated Sello is the service's, through the store)."""
        now = self.clock.now()
        checked = self.validate(data, now)
        if checked.findings:
            raise validation_error(checked.findings)
        assert checked.doc is not None
        self.spend_confirmacion(checked.doc)
        return self.sign(checked.doc, now)

    def spend_confirmacion(self, doc: Document) -> None:
        """CFDI40129 when the document is signed: a Confirmacion key serves one CFDI, also when two arrive at
        once (validation saw it unused for both). Skipped where the padrón rules are skipped."""
        clave = doc.get("Confirmacion")
        padron = self.padron
        if clave is None or padron is None:
            return
        rfc = (doc.emisor.get("Rfc") if doc.emisor is not None else None) or ""
        if padron.permissive and padron.lookup(rfc) is None:
            return
        if not padron.usar_confirmacion(clave):
            raise validation_error([finding("CFDI40129", "Comprobante@Confirmacion", value=clave,
                                            detail="la clave de confirmación ya se usó en otro comprobante")])


class StampService:
    """The stamp path with accounts, credits, storage and delivery (see the module's docstring)."""

    def __init__(self, db: Database, certifier: Certifier, *, clock: Clock = SYSTEM,
                 on_commit: Callable[[], None] | None = None) -> None:
        self.db = db
        self.certifier = certifier
        self.clock = clock
        self.on_commit = on_commit
        self.commits = GroupCommit(db)
        # The CPU's part of a stamp (validation, signature) runs a few at a time per process
        # (TIMBRA_STAMP_CONCURRENCY), whatever adapter called: more threads would only fight over the GIL.
        # Reads and the commit run outside it, so stamps waiting for the disk overlap and share one commit.
        self.cpu = threading.BoundedSemaphore(certifier.settings.stamp_concurrency)

    def validate(self, who: Principal, data: bytes) -> Validation:
        """All findings, no stamp, no credit."""
        return self.certifier.validate(data)

    def stamp(self, who: Principal, data: bytes, idempotency_key: str | None = None, *,
              referencia_key: str | None = None, to_json: JsonPaths | None = None,
              parsed: Document | None = None, known_seal: KnownSeal | None = None) -> StampResult:
        """`idempotency_key`: the client's Idempotency-Key (1-255 visible ASCII characters). `referencia_key`:
        issuing's key for a referencia instead, in a namespace no client's key can reach (it has a space).
        `to_json`: issuing's mapping from XML node paths to the fields of its data. `parsed`, `known_seal`:
        what issuing already has (see prepare)."""
        return self.finish(self.prepare(who, data, idempotency_key, referencia_key=referencia_key, to_json=to_json,
                                        parsed=parsed, known_seal=known_seal))

    def prepare(self, who: Principal, data: bytes, idempotency_key: str | None = None, *,
                referencia_key: str | None = None, to_json: JsonPaths | None = None,
                parsed: Document | None = None, known_seal: KnownSeal | None = None) -> StampResult | Signed:
        """Steps 1-4: the stored answer of a retry, or the signed stamp that `finish` stores. Steps 2-4 (the
        CPU's part) run under `self.cpu`, a few at a time per process; the read before them and `finish`
        run outside it, so stamps waiting for the disk share one commit.

        Issuing, which has just built and sealed `data`, passes what it already knows: `parsed`, `data` as
        parse() makes it (its `raw` is `data`), and `known_seal`, the seal it made of that tree (validation
        then neither computes the cadena again nor verifies its own signature; every other check runs)."""
        if who.kind != "emisor":
            raise error("T102", message="Solo una cuenta de emisor timbra.",
                        message_en="Only an emisor account stamps.")
        if idempotency_key is not None and not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise error("T100", message="Idempotency-Key: de 1 a 255 caracteres ASCII visibles.",
                        message_en="Idempotency-Key: 1 to 255 visible ASCII characters.")
        if referencia_key is not None:
            idempotency_key = referencia_key
        account_id = who.account_id
        digest = hashlib.sha256(data).hexdigest()
        # Parsed first, so that the one read below also looks for the Sello (307) and the Emisor's RFC.
        if parsed is None:
            parsed = self.certifier.parse(data)
        elif parsed.raw is not data and parsed.raw != data:
            raise ValueError("prepare: `parsed` is not the parse of `data`")
        document = parsed if isinstance(parsed, Document) else None
        sello = sello_digest(document.get("Sello") or "") if document is not None and document.tfd is None else None
        rfc = ((document.emisor.get("Rfc") if document is not None and document.emisor is not None else None)
               or "")
        # 1. a retry gets the first answer: one statement
        with self.db.read() as c:
            facts = repo.stamp_facts(c, account_id, rfc, digest, sello, idempotency_key)
        earlier = self._earlier_from(facts, account_id, digest, idempotency_key)
        if earlier is not None:
            return earlier
        with self.cpu:
            return self._validate_and_sign(parsed, facts, who, digest, idempotency_key, rfc, to_json, known_seal)

    def _validate_and_sign(self, parsed: Document | TimbraError, facts: repo.StampFacts, who: Principal,
                           digest: str, idempotency_key: str | None, rfc: str, to_json: JsonPaths | None,
                           known_seal: KnownSeal | None = None) -> StampResult | Signed:
        account_id = who.account_id
        # 2. pure validation
        now = self.clock.now()
        checked = self.certifier.validate_parsed(parsed, now, known_seal=known_seal)
        doc, findings = checked.doc, list(checked.findings)
        # 3. policy
        if doc is not None and doc.emisor is not None and not any(f.code == "301" for f in findings):
            if not facts.rfc_held:  # first: a caller who may not stamp for the Emisor learns nothing more
                raise error("T105", detail={"rfc": rfc})
            stored = self._already_stamped(account_id, doc, findings, facts.by_sello)  # None: no earlier stamp
            if stored is not None:
                return stored
        if findings:
            raise validation_error(findings, to_json)
        assert doc is not None
        self.certifier.spend_confirmacion(doc)
        # 4. TFD
        return Signed(self.certifier.sign(doc, now), account_id, digest, idempotency_key, to_json)

    def finish(self, signed: StampResult | Signed) -> StampResult:
        """Step 5: the stamp and its credit committed (with the stamps of this process committing at the
        same moment: one transaction, one commit), then the answer."""
        if isinstance(signed, StampResult):
            return signed
        account_id, digest, idempotency_key, doc = signed.account_id, signed.digest, signed.idempotency_key, \
            signed.stamp.doc
        try:
            result = self._store(account_id, signed.stamp, digest, idempotency_key)
        except IntegrityError:
            # A twin committed first (same Sello, or same Idempotency-Key): answer as it was answered.
            with self.db.reader() as s:
                earlier = self._earlier(s, account_id, digest, idempotency_key)
            if earlier is not None:
                return earlier
            twin: list[Finding] = []
            stored = self._already_stamped(account_id, doc, twin)
            if stored is not None:
                return stored
            if twin:
                raise validation_error(twin, signed.to_json) from None
            raise
        if self.on_commit is not None:
            self.on_commit()
        return result

    def replay(self, s: Session, account_id: int, row: Cfdi | None) -> StampResult:
        if row is None:  # an idempotency key whose CFDI is gone cannot happen: FK; be explicit anyway
            raise error("T900")
        xml = repo.cfdi_xml(s, account_id, row.uuid) or b""
        return StampResult(row.uuid, xml, fecha_timbrado(row.fecha_timbrado), row.no_certificado_sat, row.sello_sat,
                           repo.available(s, account_id, self.clock.now()), True)

    # --- internals --------------------------------------------------------------------------------------

    def _earlier_from(self, facts: repo.StampFacts, account_id: int, digest: str,
                      key: str | None) -> StampResult | None:
        """`_earlier` from the stamp path's one read: a read of its own only when there is an answer to give."""
        if key is not None and facts.by_key is not None:
            uuid, document_digest = facts.by_key
            if document_digest != digest:
                raise error("T106", detail={"uuid": uuid})
        elif facts.by_document is None:
            return None
        with self.db.reader() as s:
            return self._earlier(s, account_id, digest, key)

    def _earlier(self, s: Session, account_id: int, digest: str, key: str | None) -> StampResult | None:
        if key is not None:
            rec = repo.idempotency(s, account_id, key)
            if rec is not None:
                if rec.document_digest != digest:
                    raise error("T106", detail={"uuid": rec.uuid})
                return self.replay(s, account_id, repo.cfdi(s, account_id, rec.uuid))
        uuid = repo.uuid_by_document(s, account_id, digest)
        return self.replay(s, account_id, repo.cfdi(s, account_id, uuid)) if uuid is not None else None

    def _already_stamped(self, account_id: int, doc: Document, findings: list[Finding],
                         by_sello: tuple[str, int] | None | bool = False) -> StampResult | None:
        """307, decided once: a document stamped before by this account comes back with its stored stamp (as
        SW and PADE do), so a client whose connection dropped recovers it; another account's is a 307 that
        names no UUID (appended to `findings`). A document that carries its own TFD already has its 307 from
        validation; its UUID is its own, so it is no secret. `by_sello`: the stamp path's own look-up of the
        Sello, made in its first read (False: look it up here)."""
        if doc.tfd is not None:
            with self.db.reader() as s:
                row = repo.cfdi(s, account_id, (doc.uuid or "").upper())
                return self.replay(s, account_id, row) if row is not None else None
        found = by_sello
        if found is False:
            with self.db.reader() as s:
                found = repo.uuid_by_sello(s, sello_digest(doc.get("Sello") or ""))
        if found is None:
            return None
        uuid, owner = found  # type: ignore[misc]
        if owner == account_id:
            with self.db.reader() as s:
                return self.replay(s, account_id, repo.cfdi(s, account_id, uuid))
        findings.append(finding("307", "Comprobante@Sello", detail="este Sello ya fue timbrado"))
        return None

    def _store(self, account_id: int, stamp: Stamp, digest: str, idempotency_key: str | None) -> StampResult:
        now = self.clock.now()
        doc, t = stamp.doc, stamp.timbre
        receptor = doc.receptor
        row = dict(uuid=t.uuid, account_id=account_id, version=doc.version,
                   rfc_emisor=doc.emisor.get("Rfc") or "", rfc_receptor=receptor.get("Rfc") or "",
                   nombre_receptor=(receptor.get("Nombre") or "")[:300], serie=(doc.get("Serie") or "")[:25],
                   folio=(doc.get("Folio") or "")[:40], tipo=doc.get("TipoDeComprobante") or "",
                   fecha=(doc.get("Fecha") or "").strip()[:19], fecha_timbrado=_utc(t.fecha_timbrado),
                   total=to_decimal(doc.get("Total")) or Decimal(0), moneda=doc.get("Moneda") or "", status="vigente",
                   sat_status="pendiente", no_certificado_sat=t.no_certificado_sat, sello_sat=t.sello_sat,
                   sello_digest=stamp.sello_digest, document_digest=digest)
        def write(s: Connection) -> int:
            # the stamp's rows and its credit (last: the package row stays locked for the shortest time); on
            # PostgreSQL one statement, one round trip
            return credits.spend_left(s, account_id, now,
                                      repo.save_stamp_and_spend(s, row, stamp.xml, idempotency_key, now))

        left = self.commits.run(write, account_id)
        return StampResult(t.uuid, stamp.xml, t.fecha_timbrado, t.no_certificado_sat, t.sello_sat, left, False)


def _utc(fecha: str) -> datetime:
    """FechaTimbrado (Mexico City time, as written in the TFD) as the UTC instant stored."""
    return datetime.fromisoformat(fecha).replace(tzinfo=MEXICO_CITY).astimezone(timezone.utc)


def padron_from_settings(settings: Settings) -> Padron:
    """The sandbox: SAT's test RFCs plus the RFCs of the sandbox CSDs timbra made (keys_dir/sandbox.json).
    Production: SAT's lists are not loaded here yet, so the padrón is empty (strict, it refuses every RFC
    with 402: set TIMBRA_PADRON_PERMISSIVE=1 to stamp without them)."""
    if not settings.sandbox:
        return MemoryPadron(permissive=settings.padron_is_permissive)
    padron = SandboxPadron(permissive=settings.padron_is_permissive)
    manifest = settings.keys_dir / "sandbox.json"
    if manifest.exists():
        for csd in json.loads(manifest.read_text(encoding="utf-8")).get("csd", []):
            if padron.lookup(csd["rfc"]) is None:
                padron.register(Contribuyente(rfc=csd["rfc"], nombre=csd["name"]))
    return padron


def load_pac_credential(settings: Settings) -> Credential:
    """The PAC's stamping certificate from settings, or the sandbox one (created on first use)."""
    if settings.pac_cer is not None and settings.pac_key is not None:
        password = settings.pac_password  # T171 outside the sandbox without TIMBRA_PAC_KEY_PASSWORD
        try:
            return Credential.load(Path(settings.pac_cer).read_bytes(), Path(settings.pac_key).read_bytes(),
                                   password)
        except (OSError, CredentialError) as exc:
            raise TimbraError("T170", f"TIMBRA_PAC_CER / TIMBRA_PAC_KEY: {exc}", source="pac",
                              message_en="The PAC's certificate or key (TIMBRA_PAC_CER, TIMBRA_PAC_KEY, "
                                         "TIMBRA_PAC_KEY_PASSWORD) cannot be used.") from None
    if not settings.sandbox:
        if settings.pac_key_password is None:
            raise error("T171")  # first: outside the sandbox the password has no default
        raise TimbraError("T170", "TIMBRA_PAC_CER y TIMBRA_PAC_KEY son obligatorios en producción", source="pac",
                          message_en="TIMBRA_PAC_CER and TIMBRA_PAC_KEY are required in production.")
    from timbra.gateway.sandbox_ca import create_sandbox_keys

    manifest = create_sandbox_keys(settings.keys_dir, pac_rfc=settings.pac_rfc, password=settings.pac_password)
    pac = manifest["pac"]
    return Credential.load((settings.keys_dir / pac["cer"]).read_bytes(),
                           (settings.keys_dir / pac["key"]).read_bytes(), pac["password"])


def trust_store(settings: Settings) -> TrustStore:
    extra = []
    if settings.sandbox:
        from cryptography import x509

        ca = settings.keys_dir / "ca.cer"
        if ca.exists():
            extra.append(x509.load_der_x509_certificate(ca.read_bytes()))
    return TrustStore.for_environment(settings.sandbox, extra)


def options_from_settings(settings: Settings, now: datetime) -> Options:
    """The stamp path's trust anchors, padrón and limits from settings, as of `now`: what `timbra validate`
    and `timbra verify` check with, so they say what a stamp would say."""
    return Options(trust=trust_store(settings), now=now, stamp_window_hours=settings.stamp_window_hours,
                   future_tolerance_seconds=settings.future_tolerance_seconds, allow_cfdi33=settings.allow_cfdi33,
                   max_bytes=settings.max_document_bytes, padron=padron_from_settings(settings),
                   max_conceptos=settings.max_conceptos)


def certifier_from_settings(settings: Settings, *, clock: Clock = SYSTEM) -> Certifier:
    pac = load_pac_credential(settings)
    return Certifier(pac=pac, trust=trust_store(settings), clock=clock, settings=settings,
                     padron=padron_from_settings(settings))
