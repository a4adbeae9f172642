"""Reading stamped CFDI back: one CFDI, its XML, its acuse de envío, and the real-time report.

Every read is scoped: an emisor reads its own account; an admin or a distributor may name one of the
accounts it manages. Another account's CFDI is "not found", never "forbidden" (no confirming it exists).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from timbra.cfdi.tfd import fecha_timbrado_iso
from timbra.codes import error
from timbra.pac.accounts import Accounts, Principal
from timbra.store import repo
from timbra.store.db import Database
from timbra.store.models import Cfdi, SatAcuse
from timbra.store.repo import CfdiFilter  # the query's filter, the adapters' input (they never import store/)

MAX_PAGE = 500
CSV_COLUMNS = ("uuid", "fecha_timbrado", "fecha", "serie", "folio", "tipo", "rfc_emisor", "rfc_receptor",
               "nombre_receptor", "moneda", "total", "status", "sat_status")


def amount(value: Decimal) -> str:
    """An amount as people write it: at least two decimals, no trailing zeros beyond (21102.35, 0.123456)."""
    d = value.normalize()
    if d.as_tuple().exponent > -2:
        d = d.quantize(Decimal("0.01"))
    return f"{d:f}"


def cfdi_dict(row: Cfdi) -> dict:
    return {"uuid": row.uuid, "version": row.version, "rfc_emisor": row.rfc_emisor,
            "rfc_receptor": row.rfc_receptor, "nombre_receptor": row.nombre_receptor, "serie": row.serie,
            "folio": row.folio, "tipo": row.tipo, "fecha": row.fecha,
            "fecha_timbrado": fecha_timbrado_iso(row.fecha_timbrado), "total": amount(row.total), "moneda": row.moneda,
            "status": row.status, "sat_status": row.sat_status, "no_certificado_sat": row.no_certificado_sat}


# A cell that starts with one of these is a formula to a spreadsheet (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A report cell that a spreadsheet shows as text: a leading quote neutralises a formula (a receptor named
    "=HYPERLINK(...)" must not become a link or run anything when the CSV is opened)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass(frozen=True)
class Page:
    items: list[Cfdi]
    next_cursor: str | None


class StoredCfdis:
    def __init__(self, db: Database, accounts: Accounts) -> None:
        self.db = db
        self.accounts = accounts

    def get(self, who: Principal, uuid: str, account_id: int | None = None) -> Cfdi:
        acc = self.accounts.scope(who, account_id)
        with self.db.reader() as s:
            row = repo.cfdi(s, acc, uuid.upper())
        if row is None:
            raise error("T103", detail={"uuid": uuid})
        return row

    def xml(self, who: Principal, uuid: str, account_id: int | None = None) -> bytes:
        acc = self.accounts.scope(who, account_id)
        with self.db.reader() as s:
            data = repo.cfdi_xml(s, acc, uuid.upper())
            if data is None and repo.cfdi(s, acc, uuid.upper()) is not None:
                raise error("T230", detail={"uuid": uuid.upper()})  # purged by the retention policy
        if data is None:
            raise error("T103", detail={"uuid": uuid})
        return data

    def by_sello(self, who: Principal, sello: str, account_id: int | None = None) -> Cfdi:
        """The account's CFDI stamped with this Sello (FEL's ConsultarTimbrePorSello)."""
        from timbra.pac.stamping import sello_digest

        acc = self.accounts.scope(who, account_id)
        with self.db.reader() as s:
            found = repo.uuid_by_sello(s, sello_digest(sello))
            row = repo.cfdi(s, acc, found[0]) if found is not None and found[1] == acc else None
        if row is None:
            raise error("T103", message="No hay un CFDI de la cuenta con ese sello.",
                        message_en="No CFDI of the account has that Sello.")
        return row

    def by_document(self, who: Principal, xml: bytes, account_id: int | None = None) -> Cfdi:
        """The account's CFDI stamped from this sealed document (Finkok's stamped: a client whose answer was
        lost recovers it), found by its Sello; T103 when it was never stamped."""
        from timbra.cfdi.document import parse

        doc = parse(xml)
        return self.by_sello(who, doc.get("Sello") or "", account_id)

    def acuse(self, who: Principal, uuid: str, account_id: int | None = None) -> SatAcuse:
        row = self.get(who, uuid, account_id)
        with self.db.reader() as s:
            ack = repo.acuse(s, row.account_id, row.uuid)
        if ack is None:
            raise error("T103", message="El SAT aún no acusa la recepción de este CFDI; intente más tarde.",
                        message_en="SAT has not acknowledged this CFDI yet; try again later.",
                        detail={"uuid": row.uuid, "sat_status": row.sat_status})
        return ack

    def page(self, who: Principal, f: CfdiFilter, *, limit: int = 100, cursor: str | None = None,
             account_id: int | None = None) -> Page:
        acc = self.accounts.scope(who, account_id)
        limit = max(1, min(int(limit), MAX_PAGE))
        after = None
        if cursor:
            try:
                after = repo.decode_cursor(cursor)
            except ValueError as exc:
                raise error("T100", message="cursor inválido", message_en="invalid cursor") from exc
        with self.db.reader() as s:
            rows = repo.list_cfdis(s, acc, f, limit=limit + 1, after=after)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, repo.encode_cursor(rows[-1]) if more and rows else None)

    def csv_lines(self, who: Principal, f: CfdiFilter, account_id: int | None = None) -> Iterator[str]:
        """Every matching CFDI as CSV, a page at a time (constant memory however large the report)."""
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_COLUMNS)
        cursor = None
        while True:
            page = self.page(who, f, limit=MAX_PAGE, cursor=cursor, account_id=account_id)
            for row in page.items:
                d = cfdi_dict(row)
                writer.writerow([csv_cell(d[c]) for c in CSV_COLUMNS])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
            if page.next_cursor is None:
                return
            cursor = page.next_cursor
