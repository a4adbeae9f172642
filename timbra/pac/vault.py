"""The CSD vault (conexión remota): an emisor uploads its CSD once and timbra keeps it to seal the CFDI it
builds for the emisor.

An upload must be a CSD (not an e.firma), of one of the account's RFCs, valid now, issued by a trusted CA,
with the private key that belongs to it. The password is used once, to open the .key (or .pfx): the key
is then kept as its PKCS#8 DER encrypted with AES-GCM under a master key from settings, with the row's
(account_id, no_certificado) as associated data, so a ciphertext copied into another row does not decrypt.

Master keys rotate: the first configured key encrypts, every configured key decrypts, and `rotate()`
re-encrypts every stored key under the first one; an old key can be dropped from the settings afterwards.

Opening a key costs ~36 ms (RSA validation). It is validated once, at upload; later loads skip the
validation (AES-GCM proves the bytes are the ones validated) and the key object stays in memory.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
import secrets
import threading
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy.orm import Session

from timbra.cfdi.credentials import Certificate, Credential, CredentialError, PrivateKey
from timbra.cfdi.trust import TrustStore
from timbra.clock import SYSTEM, Clock
from timbra.codes import error
from timbra.pac.accounts import Accounts, Principal
from timbra.settings import Settings
from timbra.store import repo
from timbra.store.db import Database
from timbra.store.models import CsdKey

log = logging.getLogger("timbra.vault")

MASTER_KEY_FILE = "master.key"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_CACHE_SIZE = 1024


# --- master keys ----------------------------------------------------------------------------------------

class MasterKeyError(ValueError):
    """The master key configuration cannot be used (a deployment problem, not a client's)."""


@dataclass(frozen=True)
class Sealed:
    """A private key encrypted under a master key: what a `csd_keys` row stores."""

    master_key_id: str
    nonce: bytes
    ciphertext: bytes


class MasterKeys:
    """The vault's AES-256-GCM keys by id; the first one is current (it encrypts), all of them decrypt."""

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise MasterKeyError("no hay llave maestra")
        self._keys: dict[str, AESGCM] = {}
        for key_id, key in keys:
            if not _KEY_ID.fullmatch(key_id):
                raise MasterKeyError(f"id de llave maestra inválido: {key_id!r} (letras, dígitos, . _ -)")
            if len(key) != KEY_BYTES:
                raise MasterKeyError(f"la llave maestra {key_id!r} debe tener {KEY_BYTES} bytes, no {len(key)}")
            if key_id in self._keys:
                raise MasterKeyError(f"id de llave maestra repetido: {key_id!r}")
            self._keys[key_id] = AESGCM(key)
        self._raw = dict(keys)
        self.current_id = keys[0][0]

    @property
    def ids(self) -> list[str]:
        return list(self._keys)

    def __repr__(self) -> str:  # never the keys themselves
        return f"MasterKeys(ids={self.ids!r})"

    @classmethod
    def parse(cls, text: str) -> MasterKeys:
        """TIMBRA_MASTER_KEY: "base64" or "id:base64,id:base64,...", the current key first.

        A key given without an id gets one derived from the key itself, so the same key keeps the same id
        when an id-less key is later listed after a new one (rotation)."""
        keys = []
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            key_id, sep, b64 = entry.rpartition(":")
            try:
                key = base64.b64decode(b64.strip(), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise MasterKeyError("llave maestra: se espera base64 de 32 bytes") from exc
            keys.append((key_id.strip() if sep else derived_key_id(key), key))
        return cls(keys)

    @classmethod
    def generate(cls, key_id: str | None = None) -> MasterKeys:
        key = secrets.token_bytes(KEY_BYTES)
        return cls([(key_id or derived_key_id(key), key)])

    def to_text(self) -> str:
        """The TIMBRA_MASTER_KEY form of these keys (for the sandbox key file)."""
        return ",".join(f"{i}:{base64.b64encode(k).decode('ascii')}" for i, k in self._raw.items())

    @classmethod
    def from_settings(cls, settings: Settings) -> MasterKeys:
        """TIMBRA_MASTER_KEY; in the sandbox without it, a key file created once in the data directory."""
        if settings.master_key:
            return cls.parse(settings.master_key)
        if not settings.sandbox:
            raise MasterKeyError("TIMBRA_MASTER_KEY es obligatoria en producción (base64 de 32 bytes)")
        return cls.parse(sandbox_key_file(settings.data_dir / MASTER_KEY_FILE))

    def encrypt(self, plaintext: bytes, aad: bytes) -> Sealed:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return Sealed(self.current_id, nonce, self._keys[self.current_id].encrypt(nonce, plaintext, aad))

    def decrypt(self, sealed: Sealed, aad: bytes) -> bytes:
        """Raises MasterKeyError for a key id not configured, InvalidTag for a wrong key or a moved row."""
        aes = self._keys.get(sealed.master_key_id)
        if aes is None:
            raise MasterKeyError(f"la llave maestra {sealed.master_key_id!r} no está configurada")
        return aes.decrypt(sealed.nonce, sealed.ciphertext, aad)


def derived_key_id(key: bytes) -> str:
    return "k" + hashlib.sha256(b"timbra master key id\x00" + key).hexdigest()[:15]


def sandbox_key_file(path: Path) -> str:
    """The sandbox master key, created once (0600). Several processes starting together agree on one key:
    each writes a private temporary file and hard-links it into place, which only the first one wins."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(MasterKeys.generate().to_text() + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()


def associated_data(account_id: int, no_certificado: str) -> bytes:
    """What a ciphertext is bound to: decrypting it for another account or certificate fails."""
    return f"timbra/csd/v1\x00{account_id}\x00{no_certificado}".encode("ascii")


# --- the vault ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CsdInfo:
    """A stored CSD as its owner sees it: never key material."""

    id: int
    account_id: int
    rfc: str
    no_certificado: str
    name: str
    valid_from: datetime
    valid_to: datetime
    active: bool
    expired: bool
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "account_id": self.account_id, "rfc": self.rfc,
                "no_certificado": self.no_certificado, "name": self.name,
                "valid_from": self.valid_from.isoformat(), "valid_to": self.valid_to.isoformat(),
                "active": self.active, "expired": self.expired, "created_at": self.created_at.isoformat()}


class Vault:
    def __init__(self, db: Database, master_keys: MasterKeys, trust: TrustStore, clock: Clock = SYSTEM, *,
                 accounts: Accounts | None = None) -> None:
        self.db = db
        self.keys = master_keys
        self.trust = trust
        self.clock = clock
        self.accounts = accounts or Accounts(db, clock)
        self._cache: OrderedDict[tuple[int, str, bytes], Credential] = OrderedDict()
        self._lock = threading.Lock()

    # --- uploads ----------------------------------------------------------------------------------------

    def upload(self, who: Principal, cer_bytes: bytes, key_bytes: bytes, password: str, *,
               account_id: int | None = None) -> CsdInfo:
        """A CSD from SAT's .cer and .key files. It becomes the active CSD of its RFC; uploading a stored
        certificate again replaces its key and makes it active (also after it was removed)."""
        target = self.accounts.scope(who, account_id)
        cert = _certificate(cer_bytes)
        self._check_certificate(target, cert)
        try:
            key = PrivateKey.from_bytes(key_bytes, password)
        except CredentialError as exc:
            raise error("T125") from exc
        return self._store(target, cert, key)

    def upload_pfx(self, who: Principal, pfx_bytes: bytes, password: str, *,
                   account_id: int | None = None) -> CsdInfo:
        """A CSD from a PKCS#12 (.pfx) file holding the certificate and its key."""
        target = self.accounts.scope(who, account_id)
        try:
            key, cert, _extra = pkcs12.load_key_and_certificates(pfx_bytes, password.encode("utf-8") or None)
        except (ValueError, TypeError) as exc:
            raise error("T125") from exc
        if cert is None:
            raise error("T120", message="El archivo .pfx no contiene un certificado.",
                        message_en="The .pfx file has no certificate.")
        if not isinstance(key, rsa.RSAPrivateKey):
            raise error("T125", message="El archivo .pfx no contiene una llave privada RSA.",
                        message_en="The .pfx file has no RSA private key.")
        parsed = _certificate(cert.public_bytes(serialization.Encoding.DER))
        self._check_certificate(target, parsed)
        return self._store(target, parsed, PrivateKey(key))

    def one_time(self, who: Principal, *, cer: bytes | None = None, key: bytes | None = None,
                 pfx: bytes | None = None, password: str, account_id: int | None = None) -> Credential:
        """A CSD sent with a request (a cancellation, a receptor's answer) to sign it once: checked like an
        upload (a CSD of one of the account's RFCs, valid, issued by SAT, with its key), never stored."""
        target = self.accounts.scope(who, account_id)
        if pfx is not None:
            try:
                pkey, pcert, _extra = pkcs12.load_key_and_certificates(pfx, password.encode("utf-8") or None)
            except (ValueError, TypeError) as exc:
                raise error("T125") from exc
            if pcert is None or not isinstance(pkey, rsa.RSAPrivateKey):
                raise error("T125", message="El archivo .pfx no contiene un certificado y su llave privada RSA.",
                            message_en="The .pfx file lacks a certificate and its RSA private key.")
            cert, private = _certificate(pcert.public_bytes(serialization.Encoding.DER)), PrivateKey(pkey)
        else:
            cert = _certificate(cer or b"")
            try:
                private = PrivateKey.from_bytes(key or b"", password)
            except CredentialError as exc:
                raise error("T125") from exc
        self._check_certificate(target, cert)
        if not private.matches(cert):
            raise error("T124", detail={"no_certificado": cert.no_certificado})
        return Credential(cert, private)

    def _check_certificate(self, account_id: int, cert: Certificate) -> None:
        try:
            fiel, csd, rfc = cert.is_fiel, cert.is_csd, cert.rfc
        except (CredentialError, ValueError) as exc:
            raise error("T120") from exc
        if fiel:
            raise error("T121", detail={"no_certificado": cert.no_certificado})
        if not csd:
            raise error("T120", detail={"no_certificado": cert.no_certificado})
        if self.trust.issuer_of(cert) is None:
            raise error("T126", detail={"no_certificado": cert.no_certificado})
        with self.db.reader() as s:
            registered = repo.has_rfc(s, account_id, rfc)
        if not registered:
            raise error("T122", detail={"rfc": rfc})
        if not cert.valid_at(self.clock.now()):
            raise error("T123", detail={"no_certificado": cert.no_certificado,
                                        "valid_from": cert.not_before.isoformat(),
                                        "valid_to": cert.not_after.isoformat()})

    def _store(self, account_id: int, cert: Certificate, key: PrivateKey) -> CsdInfo:
        if not key.matches(cert):
            raise error("T124", detail={"no_certificado": cert.no_certificado})
        pkcs8 = key.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        sealed = self.keys.encrypt(pkcs8, associated_data(account_id, cert.no_certificado))
        now = self.clock.now()
        with self.db.session() as s:
            repo.lock_account(s, account_id)
            repo.deactivate_csds(s, account_id, cert.rfc)  # before loading the row: it is then read as it now is
            row = repo.csd_key(s, account_id, cert.no_certificado)
            if row is None:
                row = CsdKey(account_id=account_id, no_certificado=cert.no_certificado, created_at=now)
                s.add(row)
            row.rfc = cert.rfc
            row.certificate = cert.der
            row.key_nonce, row.key_ciphertext, row.master_key_id = sealed.nonce, sealed.ciphertext, sealed.master_key_id
            row.valid_from, row.valid_to = cert.not_before, cert.not_after
            row.removed_at = None
            row.active = True
            s.flush()
        log.info("CSD %s of %s stored for account %s (master key %s)", cert.no_certificado, cert.rfc, account_id,
                 sealed.master_key_id)
        return self._info(row, now, cert)

    # --- the owner's operations -------------------------------------------------------------------------

    def list(self, who: Principal, *, account_id: int | None = None) -> list[CsdInfo]:
        """The account's CSDs (removed ones left out), by RFC, newest first."""
        target = self.accounts.scope(who, account_id)
        with self.db.reader() as s:
            rows = repo.csd_keys(s, target)
        now = self.clock.now()
        return [self._info(r, now) for r in rows]

    def activate(self, who: Principal, csd_id: int) -> CsdInfo:
        """Make a stored CSD the one that seals for its RFC (the others of that RFC stay, inactive)."""
        now = self.clock.now()
        with self.db.session() as s:
            row = self._owned(s, who, csd_id)
            if not row.valid_from <= now <= row.valid_to:
                raise error("T123", detail={"no_certificado": row.no_certificado,
                                            "valid_from": row.valid_from.isoformat(),
                                            "valid_to": row.valid_to.isoformat()})
            if not row.active:
                repo.deactivate_csds(s, row.account_id, row.rfc)
                row.active = True
                s.flush()
        return self._info(row, now)

    def remove(self, who: Principal, csd_id: int) -> None:
        """Forget a CSD's private key for good (the certificate stays for the record). Removing the active
        CSD leaves its RFC without one until another is activated or uploaded."""
        with self.db.session() as s:
            row = self._owned(s, who, csd_id)
            row.active = False
            row.removed_at = self.clock.now()
            row.key_nonce = row.key_ciphertext = b""
            row.master_key_id = ""

    def _owned(self, s: Session, who: Principal, csd_id: int) -> CsdKey:
        """The row, if the caller manages its account (another account's CSD is "not found"), with its
        account locked first, then the row: the same order as uploads, so the two never deadlock."""
        row = repo.csd_key_by_id(s, csd_id)
        if row is None or not self.accounts.can_manage(who, row.account_id):
            raise error("T103", detail={"csd_id": csd_id})
        repo.lock_account(s, row.account_id)
        s.refresh(row, with_for_update=True)
        if row.removed_at is not None:
            raise error("T103", detail={"csd_id": csd_id})
        return row

    def _info(self, row: CsdKey, now: datetime, cert: Certificate | None = None) -> CsdInfo:
        cert = cert or _certificate(row.certificate)
        try:
            name = cert.name
        except CredentialError:
            name = ""
        return CsdInfo(row.id, row.account_id, row.rfc, row.no_certificado, name, row.valid_from, row.valid_to,
                       row.active, row.valid_to < now, row.created_at)

    # --- sealing ----------------------------------------------------------------------------------------

    def credential(self, account_id: int, rfc: str, s: Session | None = None) -> Credential:
        """The active CSD of `rfc` in the account, ready to sign (T127 when there is none, T123 when it is
        no longer valid). Decrypted keys are kept per (row, master key, nonce): rotation or a new upload
        changes the entry, so a stale key is never used. `s`: a read the caller has open."""
        wanted = rfc.strip().upper()
        with self.db.reader() if s is None else nullcontext(s) as s:
            return self.credential_of(account_id, rfc, repo.active_csd(s, account_id, wanted), s)

    def credential_of(self, account_id: int, rfc: str, row: Any, s: Session | None = None) -> Credential:
        """credential() of the active CSD row the caller read (None: the RFC has none). Its id, master key,
        nonce and validity find a key already in memory (issuing reads them with the account's RFCs:
        repo.emisor_csds); a row without the key material is read again whole (through `s`, or a read of its
        own) only to load the key."""
        if row is None:
            raise error("T127", detail={"rfc": rfc})
        now = self.clock.now()
        if not row.valid_from <= now <= row.valid_to:
            raise error("T123", detail={"no_certificado": row.no_certificado, "valid_to": row.valid_to.isoformat()})
        cache_key = (row.id, row.master_key_id, row.key_nonce)
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                self._cache.move_to_end(cache_key)
                return hit
        if "key_ciphertext" not in row._fields:  # the key is not in memory: read its material, as it now is
            return self.credential(account_id, rfc, s)
        sealed = Sealed(row.master_key_id, row.key_nonce, row.key_ciphertext)
        pkcs8 = self._open(row.id, sealed, associated_data(account_id, row.no_certificado))
        # Validated at upload and authenticated by AES-GCM: skipping RSA validation saves ~36 ms per load.
        key = serialization.load_der_private_key(pkcs8, None, unsafe_skip_rsa_key_validation=True)
        cert = _certificate(row.certificate)
        if not isinstance(key, rsa.RSAPrivateKey) or not PrivateKey(key).matches(cert):
            log.error("CSD %s: the stored key does not match the stored certificate", row.id)
            raise error("T900", detail={"csd_id": row.id})
        cred = Credential(cert, PrivateKey(key))
        with self._lock:
            self._cache[cache_key] = cred
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return cred

    def _open(self, csd_id: int, sealed: Sealed, aad: bytes) -> bytes:
        try:
            return self.keys.decrypt(sealed, aad)
        except (MasterKeyError, InvalidTag) as exc:
            # A deployment problem (master key missing) or a tampered row: the PAC's side, never the client's.
            log.error("CSD %s cannot be decrypted with master key %r: %s", csd_id, sealed.master_key_id,
                      type(exc).__name__)
            raise error("T900", detail={"csd_id": csd_id}) from exc

    # --- operator ---------------------------------------------------------------------------------------

    def rotate(self) -> int:
        """Re-encrypt every stored key that is not under the current master key; how many were.

        One transaction per account (locked as uploads lock it), so an interrupted rotation resumes where
        it stopped when run again. Run it once every process has the new TIMBRA_MASTER_KEY: a process still
        on the old list would keep encrypting new uploads under the old key."""
        current = self.keys.current_id
        with self.db.reader() as s:
            account_ids = repo.accounts_with_keys_not_under(s, current)
        done = 0
        for account_id in account_ids:
            with self.db.session() as s:
                repo.lock_account(s, account_id)
                for row in repo.csd_keys_not_under(s, account_id, current):
                    aad = associated_data(row.account_id, row.no_certificado)
                    plain = self._open(row.id, Sealed(row.master_key_id, row.key_nonce, row.key_ciphertext), aad)
                    sealed = self.keys.encrypt(plain, aad)
                    row.key_nonce, row.key_ciphertext, row.master_key_id = (sealed.nonce, sealed.ciphertext,
                                                                            sealed.master_key_id)
                    done += 1
        log.info("vault rotation: %d keys re-encrypted under master key %s", done, current)
        return done


def _certificate(der: bytes) -> Certificate:
    try:
        return Certificate.from_bytes(der)
    except (CredentialError, ValueError, IndexError) as exc:
        raise error("T120") from exc

