"""The RFC (Registro Federal de Contribuyentes) as a value: its shape, the kind of person and the generic RFCs.

An RFC of 12 characters is a persona moral's, one of 13 a persona física's. SAT's generic RFCs are 13
characters and count as física, as SAT's catalogs do: XAXX010101000 (público en general, nacional) and
XEXX010101000 (extranjero). The shape follows Anexo 20's t_Rfc: three (moral) or four (física) letters,
Ñ and & included, a yymmdd date and a three-character homoclave.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Persona = Literal["física", "moral"]
FISICA: Persona = "física"
MORAL: Persona = "moral"

RFC_GENERICO_NACIONAL = "XAXX010101000"
RFC_GENERICO_EXTRANJERO = "XEXX010101000"
RFCS_GENERICOS = frozenset({RFC_GENERICO_NACIONAL, RFC_GENERICO_EXTRANJERO})

# Anexo 20's t_Rfc (cfdv40.xsd) without its anchors.
PATTERN = r"[A-ZÑ&]{3,4}[0-9]{2}(0[1-9]|1[012])(0[1-9]|[12][0-9]|3[01])[A-Z0-9]{2}[0-9A]"
_SHAPE = re.compile(PATTERN)


def persona_de_rfc(rfc: str | None) -> Persona | None:
    """FISICA for a 13-character RFC (the generic ones included), MORAL for 12, None otherwise."""
    if not rfc:
        return None
    n = len(rfc)
    return FISICA if n == 13 else MORAL if n == 12 else None


def well_formed(rfc: str | None) -> bool:
    return bool(rfc) and _SHAPE.fullmatch(rfc) is not None


@dataclass(frozen=True, slots=True)
class Rfc:
    """An RFC as written (upper case, no spaces); `Rfc.parse` refuses what is not t_Rfc-shaped."""

    value: str

    @classmethod
    def parse(cls, text: str) -> Rfc:
        value = (text or "").strip().upper()
        if not well_formed(value):
            raise ValueError(f"RFC mal formado / malformed RFC: {text!r}")
        return cls(value)

    @property
    def persona(self) -> Persona | None:
        return persona_de_rfc(self.value)

    @property
    def generico(self) -> bool:
        return self.value in RFCS_GENERICOS

    @property
    def extranjero(self) -> bool:
        return self.value == RFC_GENERICO_EXTRANJERO

    def __str__(self) -> str:
        return self.value
