"""REST for the printed CFDI (representación impresa, PDF) and the account's branding (logo and colour).
Routes only translate: every decision is in timbra.pac.printing."""
from __future__ import annotations

from anyio import to_thread
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from timbra.api.rest import Who, _b64_file, _cpu, _ids_in_range, pac_of
from timbra.api.schemas import ROUTER_ERRORS, BrandingOut, answers, binary, errors, example, json_examples

router = APIRouter(prefix="/v1", dependencies=[Depends(_ids_in_range)], responses=ROUTER_ERRORS)


@router.get("/cfdi/{uuid}/pdf", tags=["cfdi"], response_class=Response,
            responses={**binary("application/pdf", "El PDF / the PDF"), **errors(404, 410)},
            summary="Representación impresa (PDF) / the printed CFDI")
async def get_cfdi_pdf(request: Request, who: Who, uuid: str, account_id: int | None = None,
                       download: bool = False) -> Response:
    """The PDF an accountant hands to the customer: emisor and receptor, conceptos with their taxes, totals and
    the amount in words, the complements (pagos, nómina, carta porte), the sellos, SAT's cadena original and the
    QR with SAT's verification URL. A cancelled CFDI is marked CANCELADO. With the account's logo and colour
    (PUT /v1/branding). `download=true` asks the browser to save it instead of showing it."""
    pac = pac_of(request)
    printed = await to_thread.run_sync(pac.printing.pdf, who, uuid, account_id, limiter=_cpu(request))
    disposition = "attachment" if download else "inline"
    return Response(printed.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'{disposition}; filename="{printed.uuid}.pdf"',
                             "Cache-Control": "private, no-cache", "X-Timbra-UUID": printed.uuid,
                             "X-Timbra-Cancelled": "true" if printed.cancelled else "false"})


class BrandingBody(BaseModel):
    """What is sent changes; what is left out stays; null removes it."""

    logo: str | None = Field(None, description="PNG o JPEG en base64 (máximo 512 KB y 4000 x 4000 píxeles); "
                                               "se guarda como PNG de hasta 1200 x 600")
    color: str | None = Field(None, description="Color de acento #RRGGBB (p. ej. #1F4E79)")


@router.get("/branding", tags=["cuenta"], summary="Logo y color del PDF / the PDF's logo and colour",
            **answers(BrandingOut), responses=errors(404))
def get_branding(request: Request, who: Who, account_id: int | None = None) -> dict:
    return pac_of(request).printing.branding(who, account_id).as_dict()


@router.put("/branding", tags=["cuenta"], summary="Poner logo y color del PDF / set the PDF's logo and colour",
            **answers(BrandingOut), responses=errors(404, 413, 422), openapi_extra=json_examples(
                color=("Solo el color / the colour only", {"color": "#1F4E79"}),
                logo=("Logo (PNG en base64) y color / logo and colour", example("branding.json"))))
def put_branding(request: Request, who: Who, body: BrandingBody, account_id: int | None = None) -> dict:
    sent = body.model_fields_set
    logo = _b64_file(body.logo, "logo") if body.logo is not None else None
    info = pac_of(request).printing.set_branding(who, logo=logo, color=body.color, keep_logo="logo" not in sent,
                                                 keep_color="color" not in sent, account_id=account_id)
    return info.as_dict()


@router.delete("/branding", tags=["cuenta"], summary="Quitar logo y color / remove the logo and colour",
               **answers(BrandingOut), responses=errors(404))
def delete_branding(request: Request, who: Who, account_id: int | None = None) -> dict:
    return pac_of(request).printing.clear_branding(who, account_id).as_dict()


@router.get("/branding/logo", tags=["cuenta"], response_class=Response,
            responses={**binary("image/png", "El logo (PNG) / the logo (PNG)"), **errors(404)},
            summary="El logo guardado / the stored logo")
def get_logo(request: Request, who: Who, account_id: int | None = None) -> Response:
    return Response(pac_of(request).printing.logo(who, account_id), media_type="image/png",
                    headers={"Cache-Control": "private, no-cache"})
