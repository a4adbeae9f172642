"""The portal's sign-ins: a browser session per successful login, kept in the database (every process of a
scaled-out PAC sees it; sign-out and a password change end it at once everywhere).

The cookie carries a 256-bit random token; the database keeps only its SHA-256. A session ends at its
absolute expiry (TIMBRA_SESSION_HOURS), after TIMBRA_SESSION_IDLE_MINUTES without use, when its user or
account is deactivated, or when the user changes the password (the other sessions of that user end). Each
session has its own CSRF token that every form posts back. Passwords go through `Accounts.authenticate`,
so the portal's logins are throttled exactly like HTTP Basic's (T150 per user and per client address).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from timbra.clock import SYSTEM, Clock
from timbra.pac.accounts import Accounts, Principal
from timbra.store import repo
from timbra.store.db import Database

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often (a write per page is waste)


@dataclass(frozen=True)
class WebSession:
    token: str          # the cookie's value (only in the answer to a login)
    who: Principal
    csrf: str
    account_name: str
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class WebSessions:
    def __init__(self, db: Database, accounts: Accounts, clock: Clock = SYSTEM, *, hours: int = 12,
                 idle_minutes: int = 60) -> None:
        self.db = db
        self.accounts = accounts
        self.clock = clock
        self.lifetime = timedelta(hours=hours)
        self.idle = timedelta(minutes=idle_minutes)

    def login(self, username: str, password: str, client: str | None) -> WebSession:
        """A new session for a right user and password (T101 otherwise; T150 when throttled)."""
        who = self.accounts.authenticate(username.strip(), password, client)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.clock.now()
        expires = now + self.lifetime
        with self.db.session() as s:
            repo.purge_web_sessions(s, now)
            repo.add_web_session(s, token_hash=token_hash(token), user_id=who.user_id, account_id=who.account_id,
                                 csrf=csrf, now=now, expires_at=expires)
            acc = repo.account(s, who.account_id)
            name = acc.name if acc is not None else ""
        return WebSession(token, who, csrf, name, expires)

    def resolve(self, token: str | None) -> WebSession | None:
        """The live session of a cookie's token, or None (unknown, expired, idle too long, user or account
        deactivated)."""
        if not token or len(token) > 200:
            return None
        h = token_hash(token)
        now = self.clock.now()
        with self.db.reader() as s:
            row = repo.web_session(s, h)
        if row is None:
            return None
        csrf, last_seen, expires, user_id, username, user_active, account_id, kind, account_active, name = row
        if expires <= now or last_seen + self.idle <= now or not user_active or not account_active:
            self.logout(token)
            return None
        if now - last_seen >= TOUCH_EVERY:
            with self.db.session() as s:
                repo.touch_web_session(s, h, now)
        return WebSession("", Principal(account_id, kind, user_id, username), csrf, name, expires)

    def logout(self, token: str | None) -> None:
        if not token or len(token) > 200:
            return
        with self.db.session() as s:
            repo.delete_web_session(s, token_hash(token))

    def change_password(self, session: WebSession, token: str, current: str, new: str) -> None:
        """The password changes and every other session of the user ends (this one stays)."""
        self.accounts.change_password(session.who, current, new)
        with self.db.session() as s:
            repo.delete_user_web_sessions(s, session.who.user_id, keep=token_hash(token))

    @staticmethod
    def csrf_ok(session: WebSession, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(session.csrf.encode(), sent.encode("utf-8", "surrogatepass"))
