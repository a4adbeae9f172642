"""Credits: packages bought from the PAC, handed down by distributors, spent one per stamp.

A credit is spent from the spendable package that expires first, inside the caller's transaction (the one
that stores the stamp), so a rolled-back stamp spends nothing. The database's check constraint
(0 <= used <= size) backs the code: a balance can never go below zero, even under concurrent stamps.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from timbra.clock import SYSTEM, Clock
from timbra.codes import error
from timbra.pac.accounts import Accounts, Principal
from timbra.store import repo
from timbra.store.db import Database
from timbra.store.models import Package

# Package sizes the PAC sells (any positive size may be created; these are the catalogue).
STANDARD_SIZES = (1_000, 50_000, 100_000, 200_000)
_SPEND_RETRIES = 20


@dataclass(frozen=True)
class PackageView:
    id: int
    size: int
    used: int
    left: int
    activation: datetime
    expiry: datetime | None
    active: bool

    def as_dict(self) -> dict:
        return {"id": self.id, "size": self.size, "used": self.used, "left": self.left,
                "activation": self.activation.isoformat(),
                "expiry": self.expiry.isoformat() if self.expiry else None, "active": self.active}


@dataclass(frozen=True)
class Balance:
    account_id: int
    available: int
    packages: list[PackageView]

    def as_dict(self) -> dict:
        return {"account_id": self.account_id, "available": self.available,
                "packages": [p.as_dict() for p in self.packages]}


def spend(s: repo.Executor, account_id: int, now: datetime) -> int:
    """Spend one credit in the caller's transaction; returns the package id. T104 when there is none.

    On PostgreSQL the package row is locked until the caller commits; a transaction that waited for a
    package another one just emptied finds no row and tries again with the next package.
    """
    for _ in range(_SPEND_RETRIES):
        package_id = repo.spend_one(s, account_id, now)
        if package_id is not None:
            return package_id
        if repo.available(s, account_id, now) == 0:
            raise error("T104", detail={"available": 0})
    raise error("T104", detail={"available": repo.available(s, account_id, now)})


def spend_left(s: repo.Executor, account_id: int, now: datetime, left: int | None = None) -> int:
    """`spend`, answering the credits left after it. `left`: what `repo.save_stamp_and_spend` answered (its
    one statement already spent); None: spend here."""
    if left is not None:
        return left
    left = repo.spend_one_left(s, account_id, now)
    if left is not None:
        return left
    spend(s, account_id, now)  # the package chosen filled up meanwhile: the retries and T104 of `spend`
    return repo.available(s, account_id, now)


class Credits:
    def __init__(self, db: Database, accounts: Accounts, clock: Clock = SYSTEM) -> None:
        self.db = db
        self.accounts = accounts
        self.clock = clock

    def add_package(self, who: Principal, account_id: int, size: int, *, activation: datetime | None = None,
                    expiry: datetime | None = None) -> Package:
        """A new package of credits for an account: only the PAC admin sells them."""
        if not who.is_admin:
            raise error("T102", message="Solo el administrador del PAC crea paquetes.",
                        message_en="Only the PAC admin creates packages.")
        _check_size(size)
        now = self.clock.now()
        activation = activation or now
        if expiry is not None and expiry <= activation:
            raise error("T100", message="La caducidad debe ser posterior a la activación.",
                        message_en="The expiry must be after the activation.")
        with self.db.session() as s:
            acc = repo.account(s, account_id)
            if acc is None or acc.kind == "admin":
                raise error("T103", detail={"account_id": account_id})
            pkg = Package(account_id=account_id, size=size, used=0, activation=activation, expiry=expiry,
                          created_by=who.account_id or None, created_at=now)
            s.add(pkg)
            s.flush()
        return pkg

    def transfer(self, who: Principal, to_account_id: int, amount: int) -> list[Package]:
        """A distributor hands `amount` of its credits to one of its clients, from the packages that expire
        first; each client package keeps the expiry of the package it came from."""
        if who.kind != "distributor":
            raise error("T102", message="Solo un distribuidor asigna créditos de sus paquetes.",
                        message_en="Only a distributor hands out credits from its packages.")
        _check_size(amount)
        now = self.clock.now()
        created = []
        with self.db.session() as s:
            target = repo.account(s, to_account_id)
            if target is None or target.parent_id != who.account_id:
                raise error("T103", detail={"account_id": to_account_id})
            have = repo.available(s, who.account_id, now)
            if have < amount:
                raise error("T112", detail={"available": have, "requested": amount})
            left = amount
            while left > 0:
                src = repo.lock_spendable_package(s, who.account_id, now)
                if src is None:
                    raise error("T112", detail={"available": repo.available(s, who.account_id, now),
                                                "requested": amount})
                take = min(left, src.size - src.used)
                if not repo.spend_from(s, src.id, take):
                    continue
                pkg = Package(account_id=to_account_id, size=take, used=0, activation=now, expiry=src.expiry,
                              source_id=src.id, created_by=who.account_id, created_at=now)
                s.add(pkg)
                created.append(pkg)
                left -= take
            s.flush()
        return created

    def balance(self, who: Principal, account_id: int | None = None) -> Balance:
        account_id = who.account_id if account_id is None else account_id
        self.accounts.require_manage(who, account_id)
        now = self.clock.now()
        with self.db.reader() as s:
            views = [PackageView(p.id, p.size, p.used, p.size - p.used, p.activation, p.expiry,
                                 p.activation <= now and (p.expiry is None or p.expiry > now))
                     for p in repo.packages(s, account_id)]
        return Balance(account_id, sum(v.left for v in views if v.active), views)


def _check_size(size: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0 or size > 100_000_000:
        raise error("T100", message="La cantidad de créditos debe ser un entero positivo.",
                    message_en="The number of credits must be a positive integer.")
