"""What `timbra serve` checks before it starts outside the sandbox (TIMBRA_ENV=production): nothing of the
sandbox may reach production. The PAC's stamping certificate must not be the sandbox one (issued by timbra's
sandbox CA: T221), the CSD vault's master key must be set and not the sandbox's key file nor a trivial one
(T222), and the database must hold no demo account (their passwords were printed on a terminal: T223).
In the sandbox none of this applies: the demo accounts and their printed passwords exist only there."""
from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from timbra.codes import error
from timbra.errors import TimbraError
from timbra.gateway.sandbox_ca import SANDBOX_PREFIX
from timbra.pac.vault import MASTER_KEY_FILE
from timbra.settings import Settings

SANDBOX_ORGANIZATION = "timbra sandbox"  # the sandbox CA's O (timbra.gateway.sandbox_ca.SandboxCA.create)
DEMO_USERNAME = "demo"  # the demo emisor that `timbra serve` creates on a sandbox's first start


def check(settings: Settings, *, demo_users=None) -> None:
    """Raises the first refusal (T221, T222, T223) when `settings` are production's; nothing in the sandbox.
    `demo_users(settings)` lists the demo users in the database (default: asks it)."""
    if settings.sandbox:
        return
    if settings.pac_cer is not None:
        settings.pac_password  # noqa: B018 - T171 first: outside the sandbox the PAC key's password has no default
    check_pac_certificate(settings)
    check_master_key(settings)
    found = (demo_users or demo_users_in_database)(settings)
    if found:
        raise error("T223", detail={"usernames": sorted(found)})


def check_pac_certificate(settings: Settings) -> None:
    if settings.pac_cer is None:
        raise error("T221", detail={"reason": "TIMBRA_PAC_CER no está configurado / is not set"})
    try:
        data = Path(settings.pac_cer).read_bytes()
    except OSError as exc:
        raise TimbraError("T170", f"TIMBRA_PAC_CER: {exc.strerror or exc}", source="pac",
                          message_en="TIMBRA_PAC_CER cannot be read.") from None
    try:
        cert = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError:
        raise TimbraError("T170", "TIMBRA_PAC_CER no es un certificado X.509.", source="pac",
                          message_en="TIMBRA_PAC_CER is not an X.509 certificate.") from None
    if is_sandbox_certificate(cert):
        raise error("T221", detail={"issuer": cert.issuer.rfc4514_string()})


def is_sandbox_certificate(cert: x509.Certificate) -> bool:
    """Issued by timbra's sandbox CA: its issuer's organization, or a NoCertificado of the sandbox's range."""
    orgs = [a.value for a in cert.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    serial = cert.serial_number.to_bytes((cert.serial_number.bit_length() + 7) // 8 or 1, "big")
    try:
        no_certificado = serial.decode("ascii")
    except UnicodeDecodeError:
        no_certificado = ""
    return SANDBOX_ORGANIZATION in orgs or no_certificado.startswith(SANDBOX_PREFIX)


def check_master_key(settings: Settings) -> None:
    if not settings.master_key:
        raise error("T222", detail={"reason": "TIMBRA_MASTER_KEY no está configurada / is not set"})
    keys = [entry.split(":", 1)[-1].strip() for entry in settings.master_key.split(",") if entry.strip()]
    sandbox_file = settings.data_dir / MASTER_KEY_FILE
    sandbox_keys: set[str] = set()
    if sandbox_file.is_file():
        sandbox_keys = {e.split(":", 1)[-1].strip() for e in sandbox_file.read_text(encoding="ascii").split(",")}
    for key in keys:
        try:
            raw = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if key in sandbox_keys:
            raise error("T222", detail={"reason": "es la llave del sandbox / it is the sandbox's key file"})
        if len(set(raw)) <= 2:  # 32 equal bytes (zeros, "AAAA...") or two alternating: a placeholder
            raise error("T222", detail={"reason": "llave trivial / trivial key"})


def demo_users_in_database(settings: Settings) -> list[str]:
    """The demo emisor's user, if the database (maybe a sandbox's, reused) holds it."""
    from timbra.store import repo
    from timbra.store.db import Database

    db = Database(settings.database_url, pool_size=1)
    try:
        with db.reader() as s:
            try:
                user = repo.user_by_name(s, DEMO_USERNAME)
            except Exception:  # noqa: BLE001 - a database without timbra's tables yet holds no demo account
                return []
            return [user.username] if user is not None else []
    finally:
        db.dispose()
