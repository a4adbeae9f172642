"""One SOAP service on the ASGI app: its WSDL on GET, its operations on POST.

Each operation authenticates from its own parameters (SOAP carries the user and password in the body, so the
route is public at the HTTP level and every operation refuses bad credentials in its protocol's shape), then
calls the same timbra.pac services that REST calls. A handler answers the result value of its operation;
a TimbraError becomes the protocol's error answer (`on_error`), and only an envelope that cannot be read, an
unknown operation or a parameter of the wrong type is a SOAP Fault.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import DataError, InterfaceError, OperationalError

from timbra.api.app import unstorable_value
from timbra.api.rest import _cpu, _logins, _within_limit, pac_of
from timbra.api.soap import envelope
from timbra.api.soap.wsdl import Op, Service
from timbra.codes import error
from timbra.errors import TimbraError
from timbra.pac.accounts import Principal
from timbra.pac.runtime import Pac

log = logging.getLogger("timbra.soap")


@dataclass
class Ctx:
    """What a handler gets besides its parameters: the PAC, and how to log in and run work."""

    request: Request
    op: Op

    @property
    def pac(self) -> Pac:
        return pac_of(self.request)

    async def login(self, username: str | None, password: str | None) -> Principal:
        """The caller from the operation's user and password; an API key (tbk_...) is accepted as the
        password. Passwords run argon2 in the same limited threads as REST's Basic authentication."""
        accounts = self.pac.accounts
        username, password = (username or "").strip(), password or ""
        client = self.request.client.host if self.request.client else None
        if password.startswith("tbk_"):
            hit = accounts.cached_key(password)
            if hit is not None:
                return hit
            accounts.key_throttle.check(client=client)
            return await run_in_threadpool(accounts.authenticate_key, password, client)
        if not username or not password:
            raise error("T101")
        hit = accounts.cached_login(username, password, client)  # FEL's and Finkok's log in on every call
        if hit is not None:  # (a throttled address: T150 here)
            return hit
        limiter = _logins(self.request)
        if limiter.statistics().tasks_waiting >= 8 * accounts.argon2_slots:
            raise error("T151", detail={"retry_after": 1})
        return await to_thread.run_sync(accounts.authenticate, username, password, client, limiter=limiter)

    async def cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Stamping, sealing and signing: a few at a time per process, as REST does."""
        return await to_thread.run_sync(lambda: fn(*args), limiter=_cpu(self.request))

    async def stamp(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Stamping (and issuing, sealing and stamping): one thread, no limit here; the stamp service runs the
        CPU's part (building, sealing, validation, signature) a few at a time itself and commits outside that
        limit, so concurrent stamps share a commit."""
        return await to_thread.run_sync(lambda: fn(*args))

    async def io(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await run_in_threadpool(fn, *args)

    def document(self, data: bytes) -> bytes:
        """A CFDI received in a parameter: no larger than TIMBRA_MAX_DOCUMENT_BYTES (T107)."""
        return _within_limit(self.request, data)


Handler = Callable[[Ctx, dict], Awaitable[Any]]


@dataclass
class Endpoint:
    service: Service
    handlers: dict[str, Handler]
    on_error: Callable[[Op, TimbraError], Any]

    def __post_init__(self) -> None:
        missing = {o.name for o in self.service.ops} ^ set(self.handlers)
        assert not missing, f"operations without a handler or handlers without an operation: {missing}"
        self._wsdl: dict[str, bytes] = {}

    def wsdl(self, location: str) -> bytes:
        if location not in self._wsdl:
            if len(self._wsdl) > 16:  # one per Host a client used: bounded
                self._wsdl.clear()
            self._wsdl[location] = self.service.wsdl(location)
        return self._wsdl[location]

    async def get(self, request: Request) -> Response:
        """The WSDL (?wsdl, ?singleWsdl or no query: all types inline, one document)."""
        location = str(request.url.replace(query=""))
        if location.endswith(".wsdl"):  # Finkok's services answer at the .wsdl address and without it
            location = location[: -len(".wsdl")]
        return Response(self.wsdl(location), media_type="text/xml; charset=utf-8")

    async def post(self, request: Request) -> Response:
        body = await request.body()
        try:
            call = envelope.read(body)
        except TimbraError as exc:
            return _fault(envelope.SOAP11, exc)
        try:
            op = self.service.ops_map.get(call.operation)
            if op is None:
                raise error("T201", message=f"Operación SOAP desconocida: {call.operation}.",
                            message_en=f"Unknown SOAP operation: {call.operation}.",
                            detail={"operation": call.operation})
            args = self.service.read(op, call.element)
        except TimbraError as exc:
            return _fault(call.soap_ns, exc)
        try:
            result = await self.handlers[op.name](Ctx(request, op), args)
        except TimbraError as exc:
            if exc.code in ("T200", "T201", "T203"):
                return _fault(call.soap_ns, exc)
            result = self.on_error(op, exc)
        except (OperationalError, InterfaceError) as exc:
            # the database is down or restarting: nothing was stored or spent; the protocol's error, retryable
            log.warning("base de datos no disponible (SOAP %s): %s", op.name, type(exc).__name__)
            result = self.on_error(op, error("T220", detail={"retry_after": 1}))
        except (DataError, OverflowError):  # NUL in a text on PostgreSQL, a number out of range: the client's error
            result = self.on_error(op, unstorable_value())
        except Exception:  # noqa: BLE001 - a Fault with T900, the trace stays in the log
            log.exception("SOAP %s %s", self.service.name, op.name)
            return _fault(call.soap_ns, error("T900"))
        payload = self.service.answer(op, result)
        return Response(envelope.envelope(call.soap_ns, payload), media_type=envelope.CONTENT_TYPE[call.soap_ns])


def _fault(soap_ns: str, exc: TimbraError) -> Response:
    return Response(envelope.fault(soap_ns, exc), status_code=500, media_type=envelope.CONTENT_TYPE[soap_ns])


def findings_text(exc: TimbraError) -> str:
    """Every finding, one per line (code, node, message, value, expected), then the English message."""
    lines = []
    for f in exc.findings:
        line = f"{f.code} {f.node}: {f.message}".replace(" :", ":")
        if f.detail:
            line += f" ({f.detail})"
        if f.value is not None:
            line += f" (valor: {f.value})"
        if f.expected is not None:
            line += f" (se espera: {f.expected})"
        lines.append(line)
    if exc.message_en:
        lines.append(exc.message_en)
    for f in exc.findings:  # the findings in English, where they have it (libxml2's errors in our words...)
        if f.detail_en or (f.message_en and f.message_en != exc.message_en):
            text = "; ".join(x for x in (f.message_en, f.detail_en) if x)
            lines.append(f"{f.code} {f.node}: {text}".replace(" :", ":"))
    return "\n".join(lines)
