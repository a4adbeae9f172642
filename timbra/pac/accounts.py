"""Accounts, users, passwords and API keys; who may do what.

Roles: the PAC admin creates distributors, emisores and packages; a distributor creates its own emisores
and hands them credits; an emisor's users stamp for the account's RFCs. Only the admin or the account's
distributor adds RFCs and users to an emisor account: its own users change their password, make and revoke
their API keys and read the account, nothing more. An RFC belongs to one account unless the admin shares it.
Passwords are hashed with argon2; API keys are shown once and stored as SHA-256 (they are 256-bit random).

Verifying an argon2 hash costs tens of milliseconds by design. ERPs send user and password on every call
(FEL's SOAP services do), so a successful verification is remembered in memory, keyed by an HMAC of the
password under a per-process secret, until the password hash changes: the plain password is never kept.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from timbra.cfdi.rfc import well_formed as rfc_well_formed
from timbra.clock import SYSTEM, Clock
from timbra.codes import error
from timbra.pac.throttle import KEYS_PER_CLIENT, LoginThrottle, username_key
from timbra.store import repo
from timbra.store.db import Database
from timbra.store.models import Account, AccountRfc, ApiKey, User

KINDS = ("admin", "distributor", "emisor")
MIN_PASSWORD = 10
KEY_CACHE_SECONDS = 5.0
# argon2 takes 64 MiB and a core for tens of milliseconds: at most this many verifications run at once per
# process; a login that cannot start one within ARGON2_WAIT_SECONDS is refused (T151).
ARGON2_SLOTS = max(1, os.cpu_count() or 1)
ARGON2_WAIT_SECONDS = 5.0
_KEY = re.compile(r"tbk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user of an account (or `system`, the operator at the CLI)."""

    account_id: int
    kind: str
    user_id: int | None = None
    username: str = ""

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"


SYSTEM_PRINCIPAL = Principal(account_id=0, kind="admin", username="system")


@dataclass(frozen=True)
class RfcEntry:
    """An RFC for an emisor account and the name SAT registers for it (Emisor@Nombre of the CFDI timbra
    issues); None: the CSD's name without the régimen de capital."""

    rfc: str
    nombre: str | None = None


@dataclass(frozen=True)
class NewAccount:
    account: Account
    user: User | None
    password: str | None  # generated when none was given; shown once


@dataclass(frozen=True)
class NewApiKey:
    key: str  # shown once
    record: ApiKey


class _VerifiedCache:
    def __init__(self, size: int = 10_000) -> None:
        self._secret = secrets.token_bytes(32)
        self._items: OrderedDict[tuple[int, str], bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def _mac(self, password: str) -> bytes:
        return hmac.new(self._secret, password.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    def hit(self, user: User, password: str) -> bool:
        with self._lock:
            mac = self._items.get((user.id, user.password_hash))
        return mac is not None and hmac.compare_digest(mac, self._mac(password))

    def login_mac(self, username: str, password: str) -> bytes:
        return self._mac(f"{len(username)}:{username}{password}")

    def add(self, user: User, password: str) -> None:
        with self._lock:
            self._items[(user.id, user.password_hash)] = self._mac(password)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class Accounts:
    def __init__(self, db: Database, clock: Clock = SYSTEM) -> None:
        self.db = db
        self.clock = clock
        self._verified = _VerifiedCache()
        self._keys: dict[str, tuple[Principal, datetime]] = {}
        self._logins: dict[bytes, tuple[Principal, datetime]] = {}  # user and password verified lately (a MAC)
        # (username, client address) that signed in: a remembered password passes a throttled username only
        # from these (see _check_remembered)
        self._signed_in_from: set[tuple[str, str | None]] = set()
        self.throttle = LoginThrottle(clock)
        # wrong API keys, per client address (a key is 256 random bits: this stops a scan, not a guess)
        self.key_throttle = LoginThrottle(clock, per_client=KEYS_PER_CLIENT, code="T224")
        self.argon2_slots = ARGON2_SLOTS
        self.argon2_wait_seconds = ARGON2_WAIT_SECONDS
        self._argon2 = threading.BoundedSemaphore(self.argon2_slots)

    # --- authorization ----------------------------------------------------------------------------------

    def can_manage(self, who: Principal, account_id: int) -> bool:
        """Admins manage everything; a distributor itself and its clients; anyone else only itself."""
        if who.is_admin or who.account_id == account_id:
            return True
        if who.kind == "distributor":
            with self.db.reader() as s:
                acc = repo.account(s, account_id)
                return acc is not None and acc.parent_id == who.account_id
        return False

    def can_administer(self, who: Principal, account_id: int) -> bool:
        """Who adds users and RFCs to an account: the admin; a distributor to its clients and itself. An
        emisor's own users may not (an RFC or a user added by the emisor itself would be unchecked)."""
        if who.is_admin:
            return True
        return who.kind == "distributor" and self.can_manage(who, account_id)

    def require_administer(self, who: Principal, account_id: int) -> None:
        self.require_manage(who, account_id)
        if not self.can_administer(who, account_id):
            raise error("T102", message="Solo el administrador del PAC o el distribuidor de la cuenta agregan "
                                        "RFC y usuarios.",
                        message_en="Only the PAC admin or the account's distributor add RFCs and users.")

    def scope(self, who: Principal, account_id: int | None) -> int:
        """The account an operation is about: the caller's own when none is named, or one it manages
        (else T103)."""
        if account_id is None or account_id == who.account_id:
            return who.account_id
        self.require_manage(who, account_id)
        return account_id

    def require_manage(self, who: Principal, account_id: int) -> None:
        if not self.can_manage(who, account_id):
            raise error("T103", detail={"account_id": account_id})  # not "forbidden": do not confirm it exists

    # --- accounts and users -----------------------------------------------------------------------------

    def create_account(self, who: Principal, *, kind: str, name: str, parent_id: int | None = None,
                       rfcs: Sequence[str | RfcEntry] = (), username: str | None = None,
                       password: str | None = None, shared: bool = False) -> NewAccount:
        """`rfcs`: RFCs (optionally with the name SAT registers for each). An RFC another account holds is
        refused (T140) unless the admin says `shared`."""
        if kind not in KINDS:
            raise error("T100", message=f"kind debe ser uno de {', '.join(KINDS)}",
                        message_en=f"kind must be one of {', '.join(KINDS)}")
        if not name.strip():
            raise error("T100", message="name es obligatorio", message_en="name is required")
        if who.kind == "distributor":
            if kind != "emisor":
                raise error("T102", message="Un distribuidor solo puede crear cuentas de emisor.",
                            message_en="A distributor can only create emisor accounts.")
            parent_id = who.account_id
        elif not who.is_admin:
            raise error("T102")
        if kind != "emisor" and rfcs:
            raise error("T100", message="Solo una cuenta de emisor tiene RFC.",
                        message_en="Only an emisor account has RFCs.")
        if shared and not who.is_admin:
            raise _only_admin_shares()
        entries = {}
        for r in rfcs:
            e = r if isinstance(r, RfcEntry) else RfcEntry(r)
            entries[_check_rfc(e.rfc)] = _check_nombre(e.nombre)
        if password is not None:
            _check_password(password)
        now = self.clock.now()
        generated = None
        try:
            with self.db.session() as s:
                if parent_id is not None:
                    parent = repo.account(s, parent_id)
                    if parent is None:
                        raise error("T103", detail={"parent_id": parent_id})
                    # A parent manages its children (can_manage): only a distributor may be one, and never
                    # of an admin account (its users would act as the PAC admin).
                    if parent.kind != "distributor" or kind == "admin":
                        raise error("T100", message="La cuenta padre debe ser un distribuidor y la cuenta "
                                                    "nueva no puede ser de administrador.",
                                    message_en="The parent account must be a distributor and the new "
                                               "account cannot be an admin one.")
                acc = Account(kind=kind, name=name.strip(), parent_id=parent_id, active=True, created_at=now)
                s.add(acc)
                s.flush()
                for r, nombre in entries.items():
                    _put_rfc(s, acc.id, r, nombre, shared, now)
                user = None
                if username:
                    if password is None:
                        generated = password = secrets.token_urlsafe(12)
                    user = self._new_user(s, acc.id, username, password, now)
        except IntegrityError as exc:
            # a twin committed first: the user name, or an RFC taken by another account meanwhile
            with self.db.reader() as s:
                if username and repo.user_by_name(s, username.strip()) is not None:
                    raise error("T110", message=f"El usuario {username!r} ya existe.",
                                message_en=f"The user {username!r} already exists.") from exc
            raise error("T140", detail={"rfcs": sorted(entries)}) from exc
        return NewAccount(acc, user, generated)

    def _new_user(self, s, account_id: int, username: str, password: str, now: datetime) -> User:
        username = username.strip()
        if not username or len(username) > 254:
            raise error("T100", message="username inválido", message_en="invalid username")
        _check_password(password)
        user = User(account_id=account_id, username=username, password_hash=_hasher.hash(password), active=True,
                    created_at=now, password_changed_at=now)
        s.add(user)
        s.flush()
        return user

    def add_user(self, who: Principal, account_id: int, username: str, password: str | None = None
                 ) -> tuple[User, str | None]:
        self.require_administer(who, account_id)
        generated = None
        if password is None:
            generated = password = secrets.token_urlsafe(12)
        try:
            with self.db.session() as s:
                if repo.account(s, account_id) is None:
                    raise error("T103")
                user = self._new_user(s, account_id, username, password, self.clock.now())
        except IntegrityError as exc:
            raise error("T110", message=f"El usuario {username!r} ya existe.",
                        message_en=f"The user {username!r} already exists.") from exc
        return user, generated

    def add_rfc(self, who: Principal, account_id: int, rfc: str, *, nombre: str | None = None,
                shared: bool = False) -> None:
        """Adds `rfc` to an emisor account (or sets its registered `nombre` when the account has it already).
        An RFC another account holds is refused (T140) unless the admin says `shared`."""
        self.require_administer(who, account_id)
        if shared and not who.is_admin:
            raise _only_admin_shares()
        rfc = _check_rfc(rfc)
        nombre = _check_nombre(nombre)
        try:
            with self.db.session() as s:
                acc = repo.account(s, account_id)
                if acc is None:
                    raise error("T103")
                if acc.kind != "emisor":
                    raise error("T100", message="Solo una cuenta de emisor tiene RFC.",
                            message_en="Only an emisor account has RFCs.")
                _put_rfc(s, account_id, rfc, nombre, shared, self.clock.now())
        except IntegrityError as exc:  # another account took it at the same moment (ix_account_rfcs_owner)
            raise error("T140", detail={"rfc": rfc}) from exc

    def get(self, who: Principal, account_id: int) -> tuple[Account, list[str]]:
        self.require_manage(who, account_id)
        with self.db.reader() as s:
            acc = repo.account(s, account_id)
            if acc is None:
                raise error("T103", detail={"account_id": account_id})
            return acc, repo.rfcs(s, account_id)

    def users(self, who: Principal, account_id: int) -> list[User]:
        """The users of an account the caller manages."""
        self.require_manage(who, account_id)
        with self.db.reader() as s:
            return repo.users(s, account_id)

    def list(self, who: Principal) -> list[Account]:
        """Admins see every account; a distributor its clients; an emisor only itself."""
        with self.db.reader() as s:
            if who.is_admin:
                return repo.children(s, None)
            if who.kind == "distributor":
                return repo.children(s, who.account_id)
            acc = repo.account(s, who.account_id)
            return [acc] if acc else []

    def set_active(self, who: Principal, account_id: int, active: bool) -> None:
        """Suspend an account (its users and API keys stop working) or reactivate it: the admin, or the
        account's distributor; never one's own account."""
        self.require_administer(who, account_id)
        if account_id == who.account_id:
            raise error("T102", message="Una cuenta no se suspende a sí misma.",
                        message_en="An account does not suspend itself.")
        with self.db.session() as s:
            acc = repo.account(s, account_id)
            if acc is None:
                raise error("T103", detail={"account_id": account_id})
            acc.active = active
        self._forget_callers()  # cached API keys and logins of the account stop at once in this process

    def rfcs(self, account_id: int) -> list[str]:
        with self.db.reader() as s:
            return repo.rfcs(s, account_id)

    def rfc_nombres(self, account_id: int) -> dict[str, str | None]:
        """Each RFC of the account with the name registered for it (None: the CSD's, without régimen)."""
        with self.db.reader() as s:
            return repo.rfc_nombres(s, account_id)

    # --- authentication ---------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, client: str | None = None) -> Principal:
        """User and password (HTTP Basic, SOAP). A password verified before is answered from memory (past a
        throttled username only from an address that signed in as it: `_check_remembered`); otherwise failed
        attempts are throttled per client address and per username (T150) and argon2 runs at most
        `argon2_slots` at once (T151 when none frees up in time)."""
        cached = self.cached_login(username, password, client)
        if cached is not None:
            return cached
        with self.db.reader() as s:
            user = repo.user_by_name(s, username)
            acc = repo.account(s, user.account_id) if user is not None else None
        known = user is not None and acc is not None and user.active and acc.active
        if known and self._verified.hit(user, password):
            self._check_remembered(username, client)
            return self._remember_login(username, password, Principal(acc.id, acc.kind, user.id, user.username),
                                        client)
        self.throttle.check(client=client, username=username)
        if not self._argon2.acquire(timeout=self.argon2_wait_seconds):
            raise error("T151", detail={"retry_after": 1})
        try:
            self.throttle.check(client=client, username=username)  # again: others may have failed meanwhile
            if not known:
                _burn(password)  # the same cost as a wrong password: no telling which usernames exist
                ok = False
            else:
                try:
                    ok = _hasher.verify(user.password_hash, password)
                except (VerificationError, InvalidHashError):
                    ok = False
        finally:
            self._argon2.release()
        if not ok:
            self.throttle.failed(client=client, username=username)
            raise error("T101")
        self._verified.add(user, password)
        self.throttle.succeeded(username)
        return self._remember_login(username, password, Principal(acc.id, acc.kind, user.id, user.username),
                                    client)

    def cached_login(self, username: str, password: str, client: str | None = None) -> Principal | None:
        """The caller of a user and password verified in the last `KEY_CACHE_SECONDS`, without a thread or the
        database (FEL's and Finkok's SOAP clients send them with every call). As with API keys, a password
        change or a suspension applies at once in this process, within that time in the others. A throttled
        address gets T150 first; a throttled username, from an address that never signed in as it
        (`_check_remembered`)."""
        self.throttle.check(client=client)
        hit = self._logins.get(self._verified.login_mac(username, password))
        if hit is None or hit[1] < self.clock.now():
            return None
        self._check_remembered(username, client)
        return hit[0]

    def _check_remembered(self, username: str, client: str | None) -> None:
        """A remembered password passes a throttled username from an address that signed in as that user (the
        ERP that sends its password on every call keeps working while someone elsewhere guesses it); from
        any other address the username's throttle applies (T150) as to a password never verified, so that
        the guesser cannot tell the right password from a wrong one while the username is throttled."""
        if (username_key(username), client) not in self._signed_in_from:
            self.throttle.check(username=username)

    def _remember_login(self, username: str, password: str, who: Principal, client: str | None) -> Principal:
        if len(self._logins) > 10_000:
            self._logins.clear()
        self._logins[self._verified.login_mac(username, password)] = (
            who, self.clock.now() + timedelta(seconds=KEY_CACHE_SECONDS))
        if len(self._signed_in_from) > 100_000:  # only right passwords add to it: an ERP's few addresses
            self._signed_in_from.clear()
        self._signed_in_from.add((username_key(username), client))
        return who

    def _forget_callers(self) -> None:
        self._keys.clear()
        self._logins.clear()

    def cached_key(self, key: str) -> Principal | None:
        """The caller of a key checked in the last `KEY_CACHE_SECONDS`, without touching the database
        (every stamp carries a key). A revocation applies at once in this process, within that time in
        the others."""
        hit = self._keys.get(_key_hash(key.strip()))
        if hit is None or hit[1] < self.clock.now():
            return None
        return hit[0]

    def authenticate_key(self, key: str, client: str | None = None) -> Principal:
        """The caller of an API key. Wrong keys are counted per client address: past KEYS_PER_CLIENT in the
        window the address gets T224 (429, Retry-After) for any key not checked recently, other addresses
        are not affected."""
        key = key.strip()
        cached = self.cached_key(key)
        if cached is not None:
            return cached
        self.key_throttle.check(client=client)
        who = self._key_principal(key)
        if who is None:
            self.key_throttle.failed(client=client)
            raise error("T101")
        return who

    def _key_principal(self, key: str) -> Principal | None:
        m = _KEY.fullmatch(key)
        if m is None:
            return None
        with self.db.reader() as s:
            row = repo.api_key_principal(s, m.group(1))
        if row is None:
            return None
        key_hash, revoked_at, user_id, username, user_active, account_id, kind, account_active = row
        if (revoked_at is not None or not user_active or not account_active
                or not hmac.compare_digest(key_hash, _key_hash(key))):
            return None
        who = Principal(account_id, kind, user_id, username)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[key_hash] = (who, self.clock.now() + timedelta(seconds=KEY_CACHE_SECONDS))
        return who

    def change_password(self, who: Principal, current: str, new: str) -> None:
        if who.user_id is None:
            raise error("T102")
        _check_password(new)
        with self.db.session() as s:
            user = s.get(User, who.user_id)
            if user is None:
                raise error("T101")
            try:
                _hasher.verify(user.password_hash, current)
            except (VerificationError, InvalidHashError) as exc:
                raise error("T101", message="La contraseña actual no es correcta.",
                            message_en="The current password is not correct.") from exc
            user.password_hash = _hasher.hash(new)
            user.password_changed_at = self.clock.now()
        self._logins.clear()  # the old password stops at once in this process

    # --- API keys ---------------------------------------------------------------------------------------

    def create_key(self, who: Principal, name: str = "", *, username: str | None = None) -> NewApiKey:
        """A key for the calling user (or, for an operator, for `username`)."""
        with self.db.session() as s:
            if username is not None:
                user = repo.user_by_name(s, username)
                if user is None or not self.can_manage(who, user.account_id):
                    raise error("T103", message=f"No existe el usuario {username!r}.",
                                message_en=f"There is no user {username!r}.")
            else:
                user = s.get(User, who.user_id) if who.user_id is not None else None
                if user is None:
                    raise error("T102")
            prefix = secrets.token_hex(6)
            key = f"tbk_{prefix}_{secrets.token_urlsafe(32)}"
            rec = ApiKey(account_id=user.account_id, user_id=user.id, prefix=prefix, key_hash=_key_hash(key),
                         name=name[:120], created_at=self.clock.now())
            s.add(rec)
            s.flush()
        return NewApiKey(key, rec)

    def list_keys(self, who: Principal) -> list[ApiKey]:
        with self.db.reader() as s:
            return repo.api_keys(s, who.account_id)

    def revoke_key(self, who: Principal, key_id: int) -> None:
        with self.db.session() as s:
            rec = s.get(ApiKey, key_id)
            if rec is None or rec.account_id != who.account_id:
                raise error("T103", detail={"key_id": key_id})
            if rec.revoked_at is None:
                rec.revoked_at = self.clock.now()
            self._keys.pop(rec.key_hash, None)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise error("T111")


def _put_rfc(s, account_id: int, rfc: str, nombre: str | None, shared: bool, now: datetime) -> None:
    """The one rule for every way an RFC enters an account (REST, CLI, account creation)."""
    row = repo.account_rfc(s, account_id, rfc)
    if row is not None:
        if nombre is not None:
            row.nombre = nombre
        return
    held_elsewhere = any(a != account_id for a in repo.rfc_holders(s, rfc))
    if held_elsewhere and not shared:
        raise error("T140", detail={"rfc": rfc})
    s.add(AccountRfc(account_id=account_id, rfc=rfc, created_at=now, nombre=nombre, shared=held_elsewhere))
    s.flush()


def _only_admin_shares():
    return error("T102", message="Solo el administrador del PAC registra un RFC en más de una cuenta (shared).",
                 message_en="Only the PAC admin registers an RFC in more than one account (shared).")


def _check_nombre(nombre: str | None) -> str | None:
    """The name SAT registers for an RFC, as given (whitespace collapsed); None or blank: not given."""
    if nombre is None or not nombre.strip():
        return None
    nombre = " ".join(nombre.split())
    if len(nombre) > 254:
        raise error("T100", message="nombre: a lo más 254 caracteres", message_en="nombre: at most 254 characters")
    return nombre


def _check_rfc(rfc: str) -> str:
    rfc = (rfc or "").strip().upper()
    if not rfc_well_formed(rfc):  # Anexo 20's t_Rfc
        raise error("T100", message=f"RFC inválido: {rfc!r}", message_en=f"Invalid RFC: {rfc!r}")
    return rfc


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _burn(password: str) -> None:
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass
