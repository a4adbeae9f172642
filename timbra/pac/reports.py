"""Downloads of a selection of stamped CFDI: one ZIP of their XML, and a spreadsheet (Excel .xlsx) of the same
columns as the CSV report. Both are built in a temporary file that spills to disk past a few megabytes, so a
selection of thousands of CFDI never sits whole in memory."""
from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO

from timbra.pac.cfdis import CSV_COLUMNS, cfdi_dict, csv_cell
from timbra.store.models import Cfdi

SPOOL_BYTES = 8 * 1024 * 1024
HEADERS_ES = {"uuid": "UUID", "fecha_timbrado": "Fecha de timbrado", "fecha": "Fecha de emisión", "serie": "Serie",
              "folio": "Folio", "tipo": "Tipo", "rfc_emisor": "RFC emisor", "rfc_receptor": "RFC receptor",
              "nombre_receptor": "Receptor", "moneda": "Moneda", "total": "Total", "status": "Estado",
              "sat_status": "Entrega al SAT"}


def zip_file(documents: Iterable[tuple[str, bytes]]) -> IO[bytes]:
    """A ZIP (deflated) of (name, bytes), rewound; the caller closes it."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the caller streams and closes it
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, data in documents:
            z.writestr(name, data)
    out.seek(0)
    return out


def xlsx_file(rows: Iterable[Cfdi]) -> IO[bytes]:
    """The CFDI as a worksheet: Spanish headers, Total as a number with two decimals, every other cell as
    text (a receptor named "=HYPERLINK(...)" stays a name: the spreadsheet never evaluates a cell)."""
    import xlsxwriter

    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the caller streams and closes it
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False})
    sheet = book.add_worksheet("CFDI")
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1})
    money = book.add_format({"num_format": "#,##0.00"})
    widths = {"uuid": 38, "fecha_timbrado": 26, "fecha": 20, "nombre_receptor": 40, "total": 16}
    for col, name in enumerate(CSV_COLUMNS):
        sheet.set_column(col, col, widths.get(name, 14))
        sheet.write_string(0, col, HEADERS_ES[name], bold)
    for r, row in enumerate(rows, start=1):
        d = cfdi_dict(row)
        for col, name in enumerate(CSV_COLUMNS):
            if name == "total":
                sheet.write_number(r, col, float(Decimal(d[name])), money)
            else:
                sheet.write_string(r, col, csv_cell(d[name]))
    sheet.freeze_panes(1, 0)
    book.close()
    out.seek(0)
    return out


def chunks(f: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """A file's bytes for a streaming answer, closing the file at the end."""
    try:
        while True:
            block = f.read(size)
            if not block:
                return
            yield block
    finally:
        f.close()
