"""Configuration from the environment (TIMBRA_*), with safe defaults for a sandbox on one machine."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "si", "sí", "on")


def _optional_bool(name: str) -> bool | None:
    """None when the variable is unset or empty (the setting then follows the environment)."""
    return _bool(name, False) if os.environ.get(name) else None


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise _config_error(f"{name} debe ser un número entero, no {raw!r}",
                            f"{name} must be an integer, not {raw!r}") from None


def _config_error(es: str, en: str):
    from timbra.codes import CODES
    from timbra.errors import TimbraError

    c = CODES["T170"]
    return TimbraError("T170", f"{c.es} {es}", source=c.source, message_en=f"{c.en} {en}")


# A PAC keeps what it certified at least this long (SAT's obligation): retention can never purge sooner.
MIN_RETENTION_MONTHS = 3

# The sandbox keys' password (they have no fiscal validity). Only the sandbox has a default.
SANDBOX_KEY_PASSWORD = "12345678a"


def resolve_data_dir(env: Mapping[str, str] | None = None) -> tuple[Path, str]:
    """The data directory, absolute, and where the choice came from; resolved once, at start.

    TIMBRA_DATA_DIR when set (a relative value is taken from the current directory, then made absolute);
    otherwise `./data` when the current directory already holds timbra's data (a checkout where `make run`
    ran), otherwise the per-user data directory ($XDG_DATA_HOME/timbra, by default ~/.local/share/timbra),
    so a command run from any other folder finds the same keys and database."""
    env = os.environ if env is None else env
    raw = env.get("TIMBRA_DATA_DIR")
    if raw:
        return Path(raw).expanduser().resolve(), "TIMBRA_DATA_DIR"
    local = Path("data")
    if (local / "timbra.db").exists() or (local / "keys" / "sandbox.json").exists():
        return local.resolve(), "./data"
    xdg = env.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return (base / "timbra").resolve(), "XDG_DATA_HOME" if xdg else "~/.local/share"


@dataclass(frozen=True)
class Settings:
    # "sandbox" (default: SAT's test CAs and timbra's sandbox CA are trusted, the sandbox SAT gateway is
    # used) or "production" (only SAT's production CAs).
    environment: str = "sandbox"
    data_dir: Path = field(default_factory=lambda: Path("data"))
    # Where data_dir came from (resolve_data_dir): "TIMBRA_DATA_DIR", "./data" or the per-user default.
    data_dir_source: str = ""
    # The PAC's stamping certificate (RfcProvCertif comes from it). Default: the sandbox one in data_dir.
    pac_cer: Path | None = None
    pac_key: Path | None = None
    # TIMBRA_PAC_KEY_PASSWORD. from_env leaves it None in production when unset: no default there (T171).
    pac_key_password: str | None = field(default=SANDBOX_KEY_PASSWORD, repr=False)
    pac_rfc: str = "SPR190613I52"
    # CFDI 3.3 was retired by SAT on 2023-03-31; a legacy/sandbox installation may still accept it.
    allow_cfdi33: bool = False
    max_document_bytes: int = 20 * 1024 * 1024
    # Conceptos a CFDI may carry (TIMBRA_MAX_CONCEPTOS): more is T107, refused before the rules run.
    max_conceptos: int = 10_000
    stamp_window_hours: int = 72
    # ERP clocks drift: a Fecha up to this many seconds ahead of the PAC's clock is not "future".
    future_tolerance_seconds: int = 120
    # SAT's padrón (l_RFC, l_LCO): permissive means an RFC it does not know passes every padrón rule.
    # None: by environment, on in the sandbox (SAT's test RFCs are checked; an ERP's real customers, which a
    # sandbox cannot know, still stamp), off in production (an unknown RFC is refused, as SAT would).
    padron_permissive: bool | None = None
    # SQLAlchemy URL; default: SQLite in data_dir. PostgreSQL: postgresql+psycopg://user@host/db
    database_url_override: str | None = None
    # Deliver to SAT from a thread of `timbra serve`; set 0 when `timbra worker` processes do it.
    worker_in_process: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    # Request bodies larger than this are refused with T107 before they are read whole.
    max_request_bytes: int = 25 * 1024 * 1024
    # Stamps validated and signed at once per process; more wait their turn (see api/rest.py).
    stamp_concurrency: int = 2
    # The CSD vault's master keys (TIMBRA_MASTER_KEY): base64 of 32 bytes, or "id:base64,id:base64" with the
    # current key first (rotation). Unset in the sandbox: a key file made once in data_dir.
    master_key: str | None = field(default=None, repr=False)
    # Credits a cancellation spends per UUID sent to SAT (TIMBRA_CANCEL_CREDITS); 0: cancelling is free.
    cancel_credits: int = 0
    # The portal's session cookie: Secure (sent over HTTPS only; TIMBRA_COOKIE_SECURE=1 behind TLS), how long
    # a sign-in lasts at most and how long it survives without use.
    cookie_secure: bool = False
    # Strict-Transport-Security's max-age on every answer (TIMBRA_HSTS_SECONDS); 0 (the default) sends none:
    # set it only when timbra is reached over HTTPS alone (a TLS proxy in front), e.g. 31536000.
    hsts_seconds: int = 0
    session_hours: int = 12
    session_idle_minutes: int = 60
    # Months the stamped XML is kept (TIMBRA_RETENTION_MONTHS): 0 keeps everything; otherwise at least
    # SAT's 3 months. The CFDI's row (report data, status, acuses) stays; only its XML is purged.
    retention_months: int = 0
    # The stamped XML in an S3-compatible object store instead of the database (TIMBRA_BLOB_URL):
    # s3://bucket/prefix?endpoint_url=...&region=... (credentials: the usual AWS variables).
    blob_url: str | None = None
    # Log lines: "text" (one readable line each) or "json" (one JSON object each); both carry the request id.
    log_format: str = "text"
    # Rendered PDFs kept in memory per process (TIMBRA_PDF_CACHE_MB, megabytes); 0: render every time.
    pdf_cache_mb: int = 32

    @property
    def sandbox(self) -> bool:
        return self.environment != "production"

    @property
    def padron_is_permissive(self) -> bool:
        return self.sandbox if self.padron_permissive is None else self.padron_permissive

    @property
    def database_url(self) -> str:
        if self.database_url_override:
            return self.database_url_override
        return f"sqlite:///{(self.data_dir / 'timbra.db').as_posix()}"

    @property
    def pac_password(self) -> str:
        """The PAC key's password. Outside the sandbox there is no default: T171 without the setting."""
        if self.pac_key_password is not None:
            return self.pac_key_password
        if self.sandbox:
            return SANDBOX_KEY_PASSWORD
        from timbra.codes import error

        raise error("T171")

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        data_dir, data_dir_source = resolve_data_dir(env)
        s = cls(
            environment=env.get("TIMBRA_ENV", "sandbox").strip().lower() or "sandbox",
            data_dir=data_dir,
            data_dir_source=data_dir_source,
            pac_key_password=env.get("TIMBRA_PAC_KEY_PASSWORD") or None,  # the default: pac_password
            pac_rfc=env.get("TIMBRA_PAC_RFC", "SPR190613I52"),
            allow_cfdi33=_bool("TIMBRA_ALLOW_CFDI33", False),
            max_document_bytes=_int("TIMBRA_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024),
            max_conceptos=max(1, _int("TIMBRA_MAX_CONCEPTOS", 10_000)),
            stamp_window_hours=_int("TIMBRA_STAMP_WINDOW_HOURS", 72),
            future_tolerance_seconds=_int("TIMBRA_FUTURE_TOLERANCE_SECONDS", 120),
            padron_permissive=_optional_bool("TIMBRA_PADRON_PERMISSIVE"),
            database_url_override=env.get("TIMBRA_DATABASE_URL") or None,
            worker_in_process=_bool("TIMBRA_WORKER_IN_PROCESS", True),
            host=env.get("TIMBRA_HOST", "127.0.0.1"),
            port=_int("TIMBRA_PORT", 8000),
            max_request_bytes=_int("TIMBRA_MAX_REQUEST_BYTES", 25 * 1024 * 1024),
            stamp_concurrency=max(1, _int("TIMBRA_STAMP_CONCURRENCY", 2)),
            master_key=env.get("TIMBRA_MASTER_KEY") or None,
            cancel_credits=max(0, _int("TIMBRA_CANCEL_CREDITS", 0)),
            cookie_secure=_bool("TIMBRA_COOKIE_SECURE", False),
            hsts_seconds=max(0, _int("TIMBRA_HSTS_SECONDS", 0)),
            session_hours=max(1, _int("TIMBRA_SESSION_HOURS", 12)),
            session_idle_minutes=max(1, _int("TIMBRA_SESSION_IDLE_MINUTES", 60)),
            retention_months=_int("TIMBRA_RETENTION_MONTHS", 0),
            log_format=(env.get("TIMBRA_LOG_FORMAT") or "text").strip().lower(),
            blob_url=env.get("TIMBRA_BLOB_URL") or None,
            pdf_cache_mb=max(0, _int("TIMBRA_PDF_CACHE_MB", 32)),
        )
        if env.get("TIMBRA_PAC_CER") or env.get("TIMBRA_PAC_KEY"):
            if not (env.get("TIMBRA_PAC_CER") and env.get("TIMBRA_PAC_KEY")):
                raise _config_error("TIMBRA_PAC_CER y TIMBRA_PAC_KEY van juntas.",
                                    "TIMBRA_PAC_CER and TIMBRA_PAC_KEY go together.")
            s = replace(s, pac_cer=Path(env["TIMBRA_PAC_CER"]), pac_key=Path(env["TIMBRA_PAC_KEY"]))
        if s.retention_months < 0 or 0 < s.retention_months < MIN_RETENTION_MONTHS:
            raise _config_error(f"TIMBRA_RETENTION_MONTHS debe ser 0 (conservar todo) o al menos "
                                f"{MIN_RETENTION_MONTHS} (el mínimo del SAT), no {s.retention_months}.",
                                f"TIMBRA_RETENTION_MONTHS must be 0 (keep everything) or at least "
                                f"{MIN_RETENTION_MONTHS} (SAT's minimum), not {s.retention_months}.")
        if s.log_format not in ("text", "json"):
            raise _config_error(f"TIMBRA_LOG_FORMAT debe ser text o json, no {s.log_format!r}.",
                                f"TIMBRA_LOG_FORMAT must be text or json, not {s.log_format!r}.")
        if s.environment not in ("sandbox", "production"):
            raise _config_error(f"TIMBRA_ENV debe ser sandbox o production, no {s.environment!r}.",
                                f"TIMBRA_ENV must be sandbox or production, not {s.environment!r}.")
        return s
