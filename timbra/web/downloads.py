"""Files the portal hands out: a CFDI's XML and PDF, SAT's acuses, a selection as ZIP, CSV or Excel. Every one
is an attachment that is never cached and never sniffed as something else."""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from timbra.pac.accounts import Principal
from timbra.pac.lookup import Found
from timbra.pac.reports import chunks
from timbra.web.core import lang_of, pac_of

FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def attachment(data: bytes, filename: str, media_type: str) -> Response:
    return Response(data, media_type=media_type,
                    headers={**FILE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'})


def streamed(body: IO[bytes] | Iterator[bytes], filename: str, media_type: str) -> StreamingResponse:
    content = chunks(body) if hasattr(body, "read") else body
    return StreamingResponse(content, media_type=media_type,
                             headers={**FILE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'})


def pdf_service(request: Request):
    """The PDF of a CFDI, when this timbra renders them (issue #12): pac.printing, else None."""
    return getattr(pac_of(request), "printing", None)


def pdf_bytes(request: Request, who: Principal, uuid: str) -> bytes | None:
    printing = pdf_service(request)
    if printing is None:
        return None
    return printing.pdf(who, uuid).pdf


def public_kinds(request: Request) -> list[tuple[str, str]]:
    es = lang_of(request) == "es"
    kinds = [("xml", "Descargar XML" if es else "Download XML")]
    if pdf_service(request) is not None:
        kinds.append(("pdf", "Descargar PDF" if es else "Download PDF"))
    return kinds


def public_file(request: Request, kind: str, found: Found) -> Response:
    uuid = found.cfdi.uuid
    if kind == "pdf":
        data = pdf_service(request).pdf_of(found.cfdi, found.xml)
        return attachment(data, f"{uuid}.pdf", "application/pdf")
    return attachment(found.xml, f"{uuid}.xml", "application/xml")
