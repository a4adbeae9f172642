"""The name of a persona moral as SAT registers it: without its régimen de capital.

A persona moral's CSD carries its denominación with the régimen de capital ("ESCUELA KEMPER URGATE SA DE
CV"); SAT's padrón registers the denominación alone and CFDI 4.0's Emisor@Nombre and Receptor@Nombre must be
that (CFDI40138, CFDI40145). `sin_regimen_capital` removes the régimen written after the name, abbreviated in
any of its usual spellings ("SA DE CV", "S.A. DE C.V.", "S. A. de C. V.", "SAPI DE CV", "S DE RL DE CV",
"SC", "AC", "SAS", "SOFOM ENR", ...) or spelled out ("SOCIEDAD ANONIMA DE CAPITAL VARIABLE"), also when it is
written twice ("... S.A DE C.V SA DE CV", as in one of SAT's test certificates).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import product

# Régimenes de capital (LGSM, Código Civil, LGSC, LAC, LDRS, financial laws), written as words; dots,
# commas and spaces do not matter when comparing ("S.A." = "S. A." = "SA").
_BASES = (
    "SA", "SAB", "SAPI", "SAPIB", "SAS", "S DE RL", "SRL", "S DE RL MI", "S EN C", "S EN CS", "S EN C POR A",
    "S EN CPA", "S EN NC", "SC", "SCP", "SCL", "SCS", "SC DE RL", "SC DE RS", "SC DE RI", "SC DE P",
    "SC DE P DE RL", "SC DE P DE RS", "SCC", "AC", "IAP", "IBP", "ABP", "APN", "SPR", "SPR DE RL", "SPR DE RI",
    "SPR DE RS", "SNC", "SSS", "ARIC", "UE", "AA", "SGC", "SFP", "SOFOM", "SOFIPO",
    # seen in SAT's own test certificates
    "S DE CV",
    # spelled out
    "SOCIEDAD ANONIMA", "SOCIEDAD ANONIMA BURSATIL", "SOCIEDAD ANONIMA PROMOTORA DE INVERSION",
    "SOCIEDAD ANONIMA PROMOTORA DE INVERSION BURSATIL", "SOCIEDAD POR ACCIONES SIMPLIFICADA",
    "SOCIEDAD DE RESPONSABILIDAD LIMITADA", "SOCIEDAD DE RESPONSABILIDAD LIMITADA MICROINDUSTRIAL",
    "SOCIEDAD EN COMANDITA SIMPLE", "SOCIEDAD EN COMANDITA POR ACCIONES", "SOCIEDAD EN NOMBRE COLECTIVO",
    "SOCIEDAD CIVIL", "ASOCIACION CIVIL", "SOCIEDAD COOPERATIVA", "SOCIEDAD COOPERATIVA DE RESPONSABILIDAD LIMITADA",
    "SOCIEDAD COOPERATIVA DE RESPONSABILIDAD SUPLEMENTADA", "INSTITUCION DE ASISTENCIA PRIVADA",
    "INSTITUCION DE BENEFICENCIA PRIVADA", "ASOCIACION DE BENEFICENCIA PRIVADA",
    "SOCIEDAD DE PRODUCCION RURAL", "SOCIEDAD DE PRODUCCION RURAL DE RESPONSABILIDAD LIMITADA",
    "SOCIEDAD DE PRODUCCION RURAL DE RESPONSABILIDAD ILIMITADA", "SOCIEDAD NACIONAL DE CREDITO",
)
# what may follow a base: capital variable, and the financial entities' own suffixes
_CAPITAL = ("", "DE CV", "DE CAPITAL VARIABLE")
_ENTIDAD = ("", "SOFOM", "SOFOM ENR", "SOFOM ER", "SOFOM ENTIDAD NO REGULADA", "SOFOM ENTIDAD REGULADA", "SFP",
            "SOFIPO", "SOFINCO", "SFC", "SIC", "IBM", "INSTITUCION DE BANCA MULTIPLE")

_SEPARATORS = re.compile(r"[\s.,]+")
_WORD_START = re.compile(r"(?:^|(?<=[\s,]))\S")


def _key(text: str) -> str:
    """Upper case, no accents, no dots, commas or spaces: 'S. A. de C. V.' -> 'SADECV'."""
    plain = unicodedata.normalize("NFKD", text.upper())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _SEPARATORS.sub("", plain)


@lru_cache(maxsize=1)
def _suffixes() -> frozenset[str]:
    out = set()
    for base, capital, entidad in product(_BASES, _CAPITAL, _ENTIDAD):
        out.add(_key(f"{base} {capital} {entidad}"))
    return frozenset(out)


def sin_regimen_capital(nombre: str) -> str:
    """`nombre` without the régimen de capital at its end (the longest one written, repeated ones too);
    unchanged when it ends in none. Whitespace is collapsed; the name's own words keep their spelling."""
    name = " ".join(nombre.split())
    removed = None
    while True:
        cut = _regimen_start(name)
        if cut is None:
            return name
        regimen = _key(name[cut:])
        rest = name[:cut].rstrip(" ,;-")
        if not _key(rest) or removed not in (None, regimen):
            return name  # nothing but a régimen; or a word of the name itself ("CONSTRUCTORA SAS SA DE CV")
        name, removed = rest, regimen


def _regimen_start(name: str) -> int | None:
    """Where the régimen de capital ending `name` starts: the leftmost word from which the rest is one."""
    suffixes = _suffixes()
    for m in _WORD_START.finditer(name):
        if m.start() > 0 and _key(name[m.start():]) in suffixes:
            return m.start()
    return None
