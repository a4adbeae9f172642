"""Drop-in SOAP services: FEL's Timbrado and Conexión Remota, Finkok's stamp, cancel, utilities and
registration, as thin adapters over the same timbra.pac calls that REST uses (accounts, credits, storage,
idempotency and errors are the same). An ERP switches to timbra by changing the service's URL."""
from __future__ import annotations

from fastapi import FastAPI

from timbra.api.soap.endpoint import Endpoint


def endpoints() -> dict[str, Endpoint]:
    """Each path a client may use (production's and the test environment's) -> its service."""
    from timbra.api.soap import fel_conexion_remota, fel_timbrado, finkok, finkok_registration

    out: dict[str, Endpoint] = {}
    for path in ("/WSTimbrado33/WSCFDI33.svc", "/WSTimbrado33Test/WSCFDI33.svc"):
        out[path] = fel_timbrado.ENDPOINT
    for path in ("/CR33/ConexionRemota.svc", "/CR33Test/ConexionRemota.svc"):
        out[path] = fel_conexion_remota.ENDPOINT
    for name, ep in (("stamp", finkok.STAMP_ENDPOINT), ("cancel", finkok.CANCEL_ENDPOINT),
                     ("utilities", finkok.UTILITIES_ENDPOINT), ("registration", finkok_registration.ENDPOINT)):
        out[f"/servicios/soap/{name}.wsdl"] = ep  # where satcfdi and most clients post
        out[f"/servicios/soap/{name}"] = ep       # the WSDL's soap:address
    return out


def register(app: FastAPI) -> None:
    """GET: the WSDL; POST: an operation. Public at the HTTP level: each operation authenticates from its own
    parameters (tests/api/test_access.py lists these routes apart)."""
    for path, ep in endpoints().items():
        app.add_api_route(path, ep.get, methods=["GET"], include_in_schema=False)
        app.add_api_route(path, ep.post, methods=["POST"], include_in_schema=False)
