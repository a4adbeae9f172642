"""The receptor's public lookup: whoever knows a CFDI's folio fiscal (UUID), RFC emisor and RFC receptor gets
its XML and its status at SAT, without an account (FEL's "descarga de XML" for receptors).

All three must match one stamped CFDI; any other answer is the same T211, whether the UUID exists or not,
so the page tells nothing about UUIDs to someone who does not know both RFCs. Lookups are counted per client
address (T210 past LOOKUPS_PER_CLIENT in the window, and past FAILED_PER_CLIENT failed ones): guessing RFCs
for a known UUID, or UUIDs for a known pair of RFCs, costs the guesser hours, not the PAC.
"""
from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

from timbra.clock import SYSTEM, Clock
from timbra.codes import error
from timbra.errors import TimbraError
from timbra.gateway import GatewayUnavailable
from timbra.pac.throttle import LoginThrottle
from timbra.store import repo
from timbra.store.db import Database
from timbra.store.models import Cfdi

WINDOW_SECONDS = 15 * 60
LOOKUPS_PER_CLIENT = 60
FAILED_PER_CLIENT = 10
_UUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


@dataclass(frozen=True)
class Found:
    cfdi: Cfdi
    xml: bytes


class PublicLookup:
    def __init__(self, db: Database, clock: Clock = SYSTEM, *,
                 sat_status: Callable[[str, str, str, str], dict] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.sat_status = sat_status
        self.all = LoginThrottle(clock, per_client=LOOKUPS_PER_CLIENT, window_seconds=WINDOW_SECONDS)
        self.failed = LoginThrottle(clock, per_client=FAILED_PER_CLIENT, window_seconds=WINDOW_SECONDS)

    def find(self, uuid: str, rfc_emisor: str, rfc_receptor: str, client: str | None) -> Found:
        """The CFDI when all three match (T211 otherwise; T210 when the client asked too often)."""
        self._check(client)
        self.all.failed(client=client)  # every lookup counts toward the client's limit
        uuid, re_, rr = (v.strip().upper() for v in (uuid or "", rfc_emisor or "", rfc_receptor or ""))
        found = None
        if _UUID.match(uuid) and 12 <= len(re_) <= 13 and 12 <= len(rr) <= 13:
            with self.db.reader() as s:
                found = repo.cfdi_any_with_xml(s, uuid)
        ok = found is not None and found[1] is not None
        # Both RFCs are compared, always, in constant time: the answer's time tells nothing either.
        ok = _same(found[0].rfc_emisor if ok else "", re_) & _same(found[0].rfc_receptor if ok else "", rr) and ok
        if not ok:
            self.failed.failed(client=client)
            raise error("T211")
        return Found(found[0], found[1])

    def status(self, found: Found) -> dict | None:
        """SAT's status of the CFDI (ConsultaCFDIService), or None when SAT cannot be asked now."""
        if self.sat_status is None:
            return None
        c = found.cfdi
        try:
            return self.sat_status(c.uuid, c.rfc_emisor, c.rfc_receptor, str(c.total))
        except (TimbraError, GatewayUnavailable):
            return None

    def _check(self, client: str | None) -> None:
        for throttle in (self.failed, self.all):
            try:
                throttle.check(client=client)
            except TimbraError as exc:
                raise error("T210", detail=exc.detail) from None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
