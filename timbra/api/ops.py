"""Operations: readiness (/readyz), Prometheus metrics (/metrics) and the request id.

Every request gets an id (the client's X-Request-ID when it is a short token, else a new one), answered in
X-Request-ID and put on every log line written while it runs (`request_id`), so one request's lines can be
found together. /metrics is for the PAC's admin (an admin API key as Bearer works for Prometheus); with
several worker processes (`timbra serve --workers N`) the counters are shared through
PROMETHEUS_MULTIPROC_DIR, which `timbra serve` sets.
"""
from __future__ import annotations

import contextvars
import logging
import os
import re
import secrets
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from timbra.api.rest import Who, pac_of
from timbra.api.schemas import ReadinessOut, binary, errors
from timbra.codes import error

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

REQUESTS = Counter("timbra_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("timbra_request_seconds", "HTTP request duration", ["method", "route"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
ERRORS = Counter("timbra_errors", "Errors answered, by timbra's or SAT's code", ["code"])

router = APIRouter()


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (`%(request_id)s`; "-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RequestContext:
    """ASGI middleware: the request id, and the request counters and latency by route template (never the
    raw path, which carries UUIDs and would make one series per CFDI)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _CLIENT_ID.match(incoming) else secrets.token_hex(8)
        token = request_id.set(rid)
        start = time.perf_counter()
        status = 500

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or ("(static)" if str(scope.get("path", "")).startswith(
                ("/static", "/assets")) else "(unmatched)")
            method = scope.get("method", "-")
            REQUESTS.labels(method, template, str(status)).inc()
            LATENCY.labels(method, template).observe(time.perf_counter() - start)
            request_id.reset(token)


def count_error(code: str) -> None:
    ERRORS.labels(code).inc()


@router.get("/readyz", tags=["operación"], summary="Listo para trabajar / ready to work", response_model=ReadinessOut,
            responses={503: {"model": ReadinessOut, "description": "No listo / not ready"}, **errors(500)})
def readyz(request: Request) -> Response:
    """Ready to work: the database answers and the outbox keeps up (503 otherwise). No customer data."""
    r = pac_of(request).health.readiness()
    return JSONResponse(r.as_dict(), status_code=200 if r.ready else 503)


class _Figures:
    """Collector of the PAC-wide figures, read from the database at scrape time (any process sees them)."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def collect(self):
        f = pac_of(self.request).health.figures()
        yield GaugeMetricFamily("timbra_credits_sold", "Credits in packages the PAC sold", value=f.credits_sold)
        yield GaugeMetricFamily("timbra_stamps_stored", "Stamps stored (each spent one credit)", value=f.stamps)
        by_status = GaugeMetricFamily("timbra_cfdis", "Stored CFDI by status", labels=["status"])
        for status, n in sorted(f.cfdis_by_status.items()):
            by_status.add_metric([status], n)
        yield by_status
        pending = GaugeMetricFamily("timbra_outbox_pending", "Outbox rows not done", labels=["kind"])
        lag = GaugeMetricFamily("timbra_outbox_lag_seconds", "Age of the oldest outbox row not done", labels=["kind"])
        for b in f.outbox:
            pending.add_metric([b.kind], b.pending)
            lag.add_metric([b.kind], b.oldest_seconds)
        yield pending
        yield lag


@router.get("/metrics", tags=["operación"], summary="Métricas de Prometheus / Prometheus metrics",
            response_class=Response,
            responses={**binary(CONTENT_TYPE_LATEST.split(";")[0], "Formato de texto de Prometheus / Prometheus text"),
                       **errors(401, 403, 429, 503)})
def metrics(request: Request, who: Who) -> Response:
    """Prometheus text format, for the PAC's admin only."""
    if not who.is_admin:
        raise error("T102")
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in (REQUESTS, LATENCY, ERRORS):
            registry.register(metric)
    registry.register(_Figures(request))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
