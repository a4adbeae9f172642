"""What FEL's and Finkok's adapters share: reading an XML parameter, the pieces of a stamp an answer carries,
signing a cancellation with a key sent in the call, listing the account's CFDI for a period, and the RFCs of
the SAT's lists."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime

from timbra.cfdi.tfd import MEXICO_CITY
from timbra.codes import error
from timbra.pac.accounts import Principal
from timbra.pac.cancelling import Signing
from timbra.pac.cfdis import CfdiFilter
from timbra.pac.runtime import Pac

STATUS_TEXT = {"vigente": "Vigente", "cancelado": "Cancelado", "en_proceso": "En proceso"}
MAX_PERIOD_ROWS = 100_000


def xml_text(text: str | None) -> bytes:
    """A CFDI sent as a string parameter: the XML itself, or (as some ERPs do) its base64."""
    raw = (text or "").strip()
    if raw and not raw.startswith("<"):
        try:
            return base64.b64decode("".join(raw.split()), validate=True)
        except (binascii.Error, ValueError):
            pass
    return raw.encode("utf-8")


def sello_cfd(xml: bytes) -> str:
    """SelloCFD of the TFD that timbra wrote (the last one in the document), without parsing it again."""
    at = xml.rfind(b'SelloCFD="')
    if at < 0:
        return ""
    start = at + len(b'SelloCFD="')
    return xml[start: xml.find(b'"', start)].decode("ascii", "replace")


def local_instant(value: datetime | None) -> datetime | None:
    """A dateTime parameter: one without offset is Mexico City time (as FEL's and Finkok's clients send it)."""
    if value is None:
        return None
    return value.replace(tzinfo=MEXICO_CITY) if value.tzinfo is None else value


def pfx_signing(pac: Pac, who: Principal, pfx_b64: str | None, password: str | None) -> Signing:
    """A .pfx in base64 sent with the call (used once, never stored); none: the vault's CSD."""
    if not (pfx_b64 or "").strip():
        return Signing()
    try:
        pfx = base64.b64decode("".join((pfx_b64 or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error("T100", message="La llave privada (.pfx) no está en base64.",
                    message_en="The private key (.pfx) is not base64.") from exc
    return Signing(pac.vault.one_time(who, pfx=pfx, password=password or ""))


def pem_signing(pac: Pac, who: Principal, cer: bytes | None, key: bytes | None, password: str = "") -> Signing:
    """A certificate and key sent with the call (Finkok: base64 of PEM files, the key without password)."""
    if not cer and not key:
        return Signing()
    return Signing(pac.vault.one_time(who, cer=cer or b"", key=key or b"", password=password))


def period(pac: Pac, who: Principal, start: datetime | None, end: datetime | None, *,
           rfc_emisor: str | None = None, tipo: str | None = None) -> list:
    """Every CFDI of the account stamped in [start, end], oldest first (bounded)."""
    f = CfdiFilter(stamped_from=local_instant(start), stamped_to=local_instant(end), rfc_emisor=rfc_emisor,
                   tipo=tipo)
    rows, cursor = [], None
    while len(rows) < MAX_PERIOD_ROWS:
        page = pac.cfdis.page(who, f, limit=500, cursor=cursor)
        rows.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return sorted(rows, key=lambda r: (r.fecha_timbrado, r.uuid))


def padron_rfc(pac: Pac, rfc: str):
    """The RFC in SAT's lists as timbra holds them (the sandbox's; production's when loaded), or None."""
    padron = pac.certifier.padron
    return padron.lookup((rfc or "").strip().upper()) if padron is not None else None


def account_named(pac: Pac, who: Principal, name: str) -> int:
    """An account the caller manages (not its own), by its id or by one of its RFCs (T103 otherwise)."""
    name = (name or "").strip()
    if name.isdigit():
        pac.accounts.require_manage(who, int(name))
        return int(name)
    for acc in pac.accounts.list(who):
        if acc.id != who.account_id and name.upper() in pac.accounts.rfcs(acc.id):
            return acc.id
    raise error("T103", detail={"account_id": name})
