"""Reading stamped CFDI back: one CFDI, its XML, its acuse de envío, and the real-time report.

Every read is scoped: an emisor reads its own account; an admin or a distributor may name one of the
accounts it manages. Another account's CFDI is "not found", never "forbidden" (no confirming it exists).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
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


SORTS = tuple(repo.SORTS)
MAX_SELECTION = 5000  # CFDI in one ZIP or spreadsheet: a larger selection is T215 (narrow the filter)


@dataclass(frozen=True)
class SearchPage:
    """One page of a search in the order a person chose: `page` from 1, `total` matching CFDI."""

    items: list[Cfdi]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass
class TotalLine:
    tipo: str
    moneda: str
    count: int = 0
    cancelled: int = 0
    total: Decimal = Decimal(0)            # every CFDI's Total
    total_vigente: Decimal = Decimal(0)    # without the cancelled ones


@dataclass
class Summary:
    """A period of the account: counts and amounts by tipo and moneda, and stamps per day of issue."""

    lines: list[TotalLine] = field(default_factory=list)
    per_day: list[tuple[date, int]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(line.count for line in self.lines)

    @property
    def cancelled(self) -> int:
        return sum(line.cancelled for line in self.lines)


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

    def search(self, who: Principal, f: CfdiFilter, *, sort: str = "fecha_timbrado", descending: bool = True,
               page: int = 1, per_page: int = 25, account_id: int | None = None) -> SearchPage:
        """A numbered page (offset) of the matching CFDI, sorted by one of SORTS."""
        acc = self.accounts.scope(who, account_id)
        if sort not in repo.SORTS:
            raise error("T100", message=f"Orden inválido: {sort!r}.", message_en=f"Invalid sort: {sort!r}.")
        per_page = max(1, min(int(per_page), 200))
        with self.db.reader() as s:
            total = repo.count_cfdis(s, acc, f)
            pages = max(1, -(-total // per_page))
            page = max(1, min(int(page), pages))
            rows = repo.search_cfdis(s, acc, f, sort=sort, descending=descending, offset=(page - 1) * per_page,
                                     limit=per_page)
        return SearchPage(rows, total, page, per_page)

    def summary(self, who: Principal, f: CfdiFilter, account_id: int | None = None) -> Summary:
        """Counts and amounts by tipo and moneda, and the number of CFDI issued each day of the period
        (every day between the first and the last asked for, zero included, when both are given)."""
        acc = self.accounts.scope(who, account_id)
        with self.db.reader() as s:
            groups = repo.totals_by_tipo_moneda(s, acc, f)
            days = repo.count_by_issue_day(s, acc, f)
        lines: dict[tuple[str, str], TotalLine] = {}
        for tipo, moneda, status, n, total in groups:
            line = lines.setdefault((tipo, moneda), TotalLine(tipo, moneda))
            line.count += n
            line.total += total
            if status == "cancelado":
                line.cancelled += n
            else:
                line.total_vigente += total
        counted = {date.fromisoformat(d): n for d, n in days if _is_day(d)}
        per_day = sorted(counted.items())
        if f.issued_from and f.issued_to and _is_day(f.issued_from[:10]) and _is_day(f.issued_to[:10]):
            first, end = date.fromisoformat(f.issued_from[:10]), date.fromisoformat(f.issued_to[:10])
            if 0 < (end - first).days <= 366:
                per_day = [(first + timedelta(days=i), counted.get(first + timedelta(days=i), 0))
                           for i in range((end - first).days)]
        return Summary(sorted(lines.values(), key=lambda x: (x.tipo, x.moneda)), per_day)

    def selection(self, who: Principal, f: CfdiFilter, *, account_id: int | None = None,
                  limit: int = MAX_SELECTION) -> list[Cfdi]:
        """Every matching CFDI (newest first) for one download; more than `limit` is T215."""
        acc = self.accounts.scope(who, account_id)
        with self.db.reader() as s:
            rows = repo.list_cfdis(s, acc, f, limit=limit + 1)
        if len(rows) > limit:
            raise error("T215", detail={"max": limit})
        return rows

    def xmls(self, who: Principal, uuids: list[str], account_id: int | None = None) -> Iterator[tuple[str, bytes]]:
        """The stamped XML of the account's CFDI among `uuids`, a hundred at a time."""
        acc = self.accounts.scope(who, account_id)
        for i in range(0, len(uuids), 100):
            with self.db.reader() as s:
                found = dict(repo.cfdi_xmls(s, acc, uuids[i:i + 100]))
            for u in uuids[i:i + 100]:
                if u in found:
                    yield u, found[u]

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


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10
