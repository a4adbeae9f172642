"""One error type and one finding type for every layer.

A `Finding` is one problem found in a document (a validation answers with all of them).
A `TimbraError` is what stops an operation; it may carry findings. Codes are SAT's where SAT has one
(301-308, 401-403, CFDI40101...) and timbra's own otherwise (T-prefixed); `timbra.codes` is the table.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Source = Literal["client", "pac", "sat"]


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str
    node: str = ""
    value: str | None = None
    expected: str | None = None
    detail: str | None = None
    message_en: str | None = None
    detail_en: str | None = None  # `detail` in English, when there is one

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "node": self.node}
        for key in ("value", "expected", "detail", "message_en", "detail_en"):
            v = getattr(self, key)
            if v is not None:
                out[key] = v
        return out

    def __str__(self) -> str:
        text = f"{self.code} {self.node}: {self.message}"
        if self.detail:
            text += f" ({self.detail})"
        return text


@dataclass(frozen=True, slots=True)
class NotEvaluated:
    """Checks that could not run on a document, and why (e.g. SAT's list of RFCs does not know an RFC in a
    permissive sandbox padrón): a caller can tell "not checked" from "passed"."""

    what: str  # e.g. "padrón", "padrón:XAXX010101000"
    reason: str
    reason_en: str

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "reason": self.reason, "reason_en": self.reason_en}


class TimbraError(Exception):
    """An operation that cannot go on. `source` says whose side the problem is on."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        source: Source = "client",
        findings: list[Finding] | None = None,
        message_en: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.source = source
        self.findings = findings or []
        self.message_en = message_en
        self.detail = detail or {}

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "source": self.source,
            "findings": [f.as_dict() for f in self.findings],
        }
        if self.message_en:
            out["message_en"] = self.message_en
        if self.detail:
            out["detail"] = self.detail
        return out
