"""SAT's side, behind one interface: a PAC delivers every stamped CFDI to SAT and gets an acuse.

SAT cannot be reached from here: `sandbox.SandboxGateway` (the default) applies SAT's rules itself, and
`sandbox_ca.SandboxCA` plays SAT's certificate authority. A production gateway implements `Gateway` too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Status = Literal["recibido", "rechazado"]


class GatewayUnavailable(Exception):
    """SAT did not answer (timeout, maintenance): a transient failure the caller retries later."""


@dataclass(frozen=True)
class Receipt:
    """SAT's answer to a delivery: the acuse de envío and what it says."""

    uuid: str
    status: Status
    code: str
    message: str
    received_at: datetime  # aware UTC
    xml: bytes  # the acuse de envío


class Gateway(Protocol):
    def deliver(self, xml: bytes) -> Receipt:
        """Deliver a stamped CFDI. Idempotent: the same UUID delivered again gets the same acuse.

        Raises GatewayUnavailable when SAT cannot be reached; a rejection is a Receipt, not an error."""
