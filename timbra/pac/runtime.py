"""The running PAC: one object that wires settings, database, certifier, services and the delivery worker.

`timbra serve`, `timbra worker` and the tests build it the same way, so what is tested is what runs.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from timbra.clock import SYSTEM, Clock
from timbra.errors import TimbraError
from timbra.pac.accounts import SYSTEM_PRINCIPAL, Accounts, Principal
from timbra.pac.cancelling import CancelService
from timbra.pac.cfdis import StoredCfdis
from timbra.pac.credits import Credits
from timbra.pac.health import Health
from timbra.pac.issuing import IssueService
from timbra.pac.printing import Printing
from timbra.pac.retention import Retention
from timbra.pac.stamping import StampService, certifier_from_settings
from timbra.pac.vault import MasterKeys, Vault
from timbra.settings import Settings
from timbra.store.blobs import BlobError  # noqa: F401 - adapters answer it as 503 T232
from timbra.store.db import Database

log = logging.getLogger("timbra")

DEMO_CREDITS = 100


@dataclass(frozen=True)
class DemoAccount:
    account_id: int
    username: str
    password: str
    api_key: str
    credits: int
    rfcs: list[str]
    admin_username: str
    admin_password: str
    csds: tuple[str, ...] = ()  # NoCertificado of the sandbox CSDs put in the vault for the account


class Pac:
    def __init__(self, settings: Settings, *, clock: Clock = SYSTEM, migrate: bool = True,
                 worker: bool | None = None) -> None:
        from timbra.gateway.sandbox import SandboxGateway
        from timbra.pac.delivery import Delivery, Runners, Worker

        self.settings = settings
        self.clock = clock
        self.db = Database(settings.database_url, blobs=blobs_of(settings))
        if migrate:
            self.db.upgrade()
        self.certifier = certifier_from_settings(settings, clock=clock)
        self.accounts = Accounts(self.db, clock)
        self.credits = Credits(self.db, self.accounts, clock)
        self.cfdis = StoredCfdis(self.db, self.accounts)
        self.vault = Vault(self.db, MasterKeys.from_settings(settings), self.certifier.trust, clock,
                           accounts=self.accounts)
        if not settings.sandbox:
            raise TimbraError("T170", "La conexión con el SAT de producción aún no existe en timbra: use "
                              "TIMBRA_ENV=sandbox.", source="pac",
                              message_en="SAT's production gateway is not available here; use TIMBRA_ENV=sandbox.")
        # SAT's side is another system: on SQLite it gets a database file of its own (its writes then never
        # queue behind timbra's); on PostgreSQL its own tables in the same database.
        sat_db = (f"sqlite:///{(settings.data_dir / 'sandbox-sat.db').as_posix()}" if not self.db.is_postgres
                  else self.db.engine)
        self.gateway = SandboxGateway(sat_db, clock=clock, pac_certificates=[self.certifier.pac.certificate],
                                      signer=_sandbox_sat_signer(settings), trust=self.certifier.trust)
        self.delivery = Delivery(self.db, self.gateway, clock)
        run_worker = settings.worker_in_process if worker is None else worker
        self.cancels = CancelService(self.db, self.gateway, self.vault, self.accounts, self.certifier.trust, clock,
                                     rfc_pac=self.certifier.pac.certificate.rfc,
                                     credits_per_uuid=settings.cancel_credits)
        # The worker's jobs: deliveries to SAT, cancellations to send and to follow, retention.
        self.retention = Retention(self.db, settings.retention_months, clock)
        self.health = Health(self.db, clock)
        self.outbox = Runners(self.delivery, self.cancels, self.retention)
        self.worker = Worker(self.outbox, linger=0.2) if run_worker else None
        self.cancels.on_commit = self.worker.wake if self.worker else None
        self.stamps = StampService(self.db, self.certifier, clock=clock,
                                   on_commit=self.worker.wake if self.worker else None)
        self.issuing = IssueService(self.db, self.stamps, self.vault, clock=clock)
        # The portal's services: sign-ins, distributors' registrations, the receptors' public lookup, and
        # what the admin watches (errors answered, counted per process).
        from timbra.pac.cancelling import status_dict
        from timbra.pac.lookup import PublicLookup
        from timbra.pac.registrations import Registrations
        from timbra.pac.sessions import WebSessions

        self.sessions = WebSessions(self.db, self.accounts, clock, hours=settings.session_hours,
                                    idle_minutes=settings.session_idle_minutes)
        self.registrations = Registrations(self.db, self.accounts, clock)
        gateway = self.gateway
        self.lookup = PublicLookup(self.db, clock,
                                   sat_status=lambda u, re_, rr, tt: status_dict(gateway.status(u, re_, rr, tt)))
        self.errors = self.health.errors
        self.printing = Printing(self.db, self.accounts, clock, cache_bytes=settings.pdf_cache_mb << 20,
                                 max_document_bytes=settings.max_document_bytes)

    def start(self) -> None:
        if self.worker is not None:
            self.worker.start()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.gateway.dispose()
        self.db.dispose()

    def ensure_demo(self, *, csds: bool = False) -> DemoAccount | None:
        """On the first start of a sandbox (no account yet): an admin and a demo emisor with the sandbox
        CSDs' RFCs, a user, an API key and 100 credits; with `csds` (what `timbra serve` does) the sandbox
        CSDs also go into the vault, so the account can issue from data at once. Returns them once, to be
        printed; None afterwards."""
        if not self.settings.sandbox or self.accounts.list(SYSTEM_PRINCIPAL):
            return None
        from timbra.gateway.sandbox_ca import create_sandbox_keys

        s = self.settings
        manifest = create_sandbox_keys(s.keys_dir, pac_rfc=s.pac_rfc, password=s.pac_password)
        rfcs = sorted({c["rfc"] for c in manifest["csd"]})
        admin = self.accounts.create_account(SYSTEM_PRINCIPAL, kind="admin", name="Administrador del PAC",
                                             username="admin")
        demo = self.accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="Demo", rfcs=rfcs,
                                            username="demo")
        who = Principal(demo.account.id, "emisor", demo.user.id, "demo")
        key = self.accounts.create_key(who, "demo")
        self.credits.add_package(SYSTEM_PRINCIPAL, demo.account.id, DEMO_CREDITS)
        stored = []
        for c in manifest["csd"] if csds else []:
            info = self.vault.upload(who, (s.keys_dir / c["cer"]).read_bytes(), (s.keys_dir / c["key"]).read_bytes(),
                                     c["password"])
            stored.append(info.no_certificado)
        return DemoAccount(demo.account.id, "demo", demo.password or "", key.key, DEMO_CREDITS, rfcs,
                           "admin", admin.password or "", tuple(stored))


def _sandbox_sat_signer(settings: Settings):
    """The sandbox SAT signs its acuses with a certificate of the sandbox CA (a 'SAT' of its own)."""
    from timbra.gateway.sandbox_ca import SandboxCA

    try:
        ca = SandboxCA.load(settings.keys_dir)
    except (FileNotFoundError, ValueError):
        return None
    from datetime import datetime, timezone

    return ca.issue("SAT970701NN3", "SERVICIO DE ADMINISTRACION TRIBUTARIA (SANDBOX)",
                    not_before=datetime(2020, 1, 1, tzinfo=timezone.utc))


class Operator:
    """The operator's side of the PAC, for the command line: the same accounts, credits, vault and migrations
    that `Pac` wires, on the configured database, without the stamping engine, the SAT gateway or the
    delivery worker (an account command needs none of them)."""

    def __init__(self, settings: Settings, *, upgrade: bool = True, clock: Clock = SYSTEM) -> None:
        self.settings = settings
        self.clock = clock
        self.db = Database(settings.database_url, blobs=blobs_of(settings))
        if upgrade:
            self.db.upgrade()
        self.accounts = Accounts(self.db, clock)
        self.credits = Credits(self.db, self.accounts)

    @cached_property
    def vault(self) -> Vault:
        """Built on first use: a malformed TIMBRA_MASTER_KEY fails only the commands that need the vault."""
        from timbra.pac.stamping import trust_store

        s = self.settings
        return Vault(self.db, MasterKeys.from_settings(s), trust_store(s), accounts=self.accounts)

    def revision(self) -> str | None:
        return self.db.revision()

    def backup(self, dest: Path) -> dict:
        """The database and the data directory's keys into `dest` (store/backup.py); T231 on failure."""
        from timbra.store.backup import BackupError, backup

        try:
            return backup(self.settings.database_url, self.settings.data_dir, dest, revision=self.db.revision(),
                          now=self.clock.now())
        except (BackupError, OSError) as exc:
            raise _backup_error(exc) from exc

    def restore(self, source: Path, *, force: bool = False) -> dict:
        """Put a backup back into the configured database, then migrate it to this version's head."""
        from timbra.store.backup import BackupError, restore

        self.db.dispose()  # no connection of ours holds the files or the tables being replaced
        try:
            manifest = restore(source, self.settings.database_url, self.settings.data_dir, force=force)
        except (BackupError, OSError) as exc:
            raise _backup_error(exc) from exc
        self.db = Database(self.settings.database_url, blobs=blobs_of(self.settings))
        self.accounts = Accounts(self.db)
        self.credits = Credits(self.db, self.accounts)
        self.db.upgrade()
        return manifest

    def head(self) -> str | None:
        return self.db.head()

    def upgrade(self) -> None:
        self.db.upgrade()

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Operator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def blobs_of(settings: Settings):
    """The object store of TIMBRA_BLOB_URL, or None (the XML stays in the database); T170 for a bad URL."""
    from timbra.store.blobs import blobs_from_url

    try:
        return blobs_from_url(settings.blob_url)
    except (ValueError, ImportError) as exc:
        raise TimbraError("T170", f"Configuración inválida: {exc}", source="pac",
                          message_en=f"Invalid configuration: {exc}") from exc


def _backup_error(exc: Exception) -> TimbraError:
    from timbra.codes import error

    return error("T231", detail={"reason": str(exc)[:2000]})


def sandbox_keys(settings: Settings, *, force: bool = False) -> dict:
    """The sandbox's CA, PAC certificate and demo CSDs in settings.keys_dir (made on first use): the
    manifest that `timbra keys sandbox` prints."""
    from timbra.gateway.sandbox_ca import create_sandbox_keys

    return create_sandbox_keys(settings.keys_dir, pac_rfc=settings.pac_rfc, password=settings.pac_password,
                               force=force)
