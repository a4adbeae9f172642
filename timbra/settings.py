"""Configuration from the environment (TIMBRA_*), with safe defaults for a sandbox on one machine."""
from __future__ import annotations

import os
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
    return int(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    # "sandbox" (default: SAT's test CAs and timbra's sandbox CA are trusted, the sandbox SAT gateway is
    # used) or "production" (only SAT's production CAs).
    environment: str = "sandbox"
    data_dir: Path = field(default_factory=lambda: Path("data"))
    # The PAC's stamping certificate (RfcProvCertif comes from it). Default: the sandbox one in data_dir.
    pac_cer: Path | None = None
    pac_key: Path | None = None
    pac_key_password: str = "12345678a"
    pac_rfc: str = "SPR190613I52"
    # CFDI 3.3 was retired by SAT on 2023-03-31; a legacy/sandbox installation may still accept it.
    allow_cfdi33: bool = False
    max_document_bytes: int = 20 * 1024 * 1024
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
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        s = cls(
            environment=env.get("TIMBRA_ENV", "sandbox").strip().lower() or "sandbox",
            data_dir=Path(env.get("TIMBRA_DATA_DIR", "data")),
            pac_key_password=env.get("TIMBRA_PAC_KEY_PASSWORD", "12345678a"),
            pac_rfc=env.get("TIMBRA_PAC_RFC", "SPR190613I52"),
            allow_cfdi33=_bool("TIMBRA_ALLOW_CFDI33", False),
            max_document_bytes=_int("TIMBRA_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024),
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
        )
        if env.get("TIMBRA_PAC_CER"):
            s = replace(s, pac_cer=Path(env["TIMBRA_PAC_CER"]), pac_key=Path(env["TIMBRA_PAC_KEY"]))
        if s.environment not in ("sandbox", "production"):
            raise ValueError(f"TIMBRA_ENV must be sandbox or production, not {s.environment!r}")
        return s
