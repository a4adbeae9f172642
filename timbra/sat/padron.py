"""The padrón: what only SAT (or the PAC itself) knows about taxpayers, behind one interface.

Some CFDI 4.0 rules need lists a PAC receives from SAT and keeps confidential:
- l_RFC, the RFC inscritos no cancelados, with name, postal code of the domicilio fiscal, regímenes and the
  "marca Retención" (CFDI40138/40139, 40143-40148, 40154, 40159, 40189-40193, CFDI140224/140225);
- l_LCO, the RFCs that may invoice (402, CFDI40187);
and what is handed out one at a time: the Confirmacion keys a PAC gives an emisor for a Total or TipoCambio
out of range (CFDI40118, 40127-40129), the operation numbers of SAT's service for invoicing through the
adquirente (CFDI40142) and the reference exchange rate of each currency (CFDI40118).

`Padron` is what the rules see. `MemoryPadron` keeps everything in memory; `SandboxPadron` is one loaded
with SAT's published test RFCs (data/padron_sandbox.json; sources in data/SOURCES.md).

A padrón is *permissive* when an RFC it does not know passes: every padrón rule is skipped for that RFC
(the sandbox default: SAT's test RFCs are checked, an ERP's real customers, which the sandbox cannot know,
are not). A strict padrón reports an unknown RFC (402, CFDI40143, CFDI40187).
"""
from __future__ import annotations

import json
import secrets
import string
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from timbra.sat import DATA

# Names and postal codes compare after XSD's whitespace collapse; case and accents count, as SAT asks for the
# name exactly as the Constancia de Situación Fiscal writes it.
from timbra.sat.catalogs import collapse

SANDBOX_FILE = DATA / "padron_sandbox.json"
# How far back a reference exchange rate still applies: Banxico publishes on business days only.
TIPO_CAMBIO_MAX_DIAS = 7
_CLAVE_CHARS = string.ascii_uppercase + string.digits


def _rfc_key(rfc: str) -> str:
    return rfc.strip().upper()


def _given_to(issued: dict[str, str | None], key: str, rfc: str) -> bool:
    """Whether `key` was issued, to `rfc` or to no one in particular."""
    if key not in issued:
        return False
    owner = issued[key]
    return owner is None or owner == _rfc_key(rfc)


@dataclass(frozen=True)
class Contribuyente:
    """One RFC of SAT's lists."""

    rfc: str
    nombre: str
    codigo_postal: str | None = None  # of the domicilio fiscal; None: not known (not checked)
    regimenes: tuple[str, ...] = ()  # c_RegimenFiscal codes; empty: not known (not checked)
    puede_facturar: bool = True  # in l_LCO
    retencion: int = 0  # l_RFC's "marca Retención" (1 and 2: CFDI140224/140225)


class Padron(Protocol):
    """What the rules ask of SAT's lists. Implementations must be safe to share between threads."""

    permissive: bool
    # The data is public (SAT's published test RFCs): a finding may show the registered name, postal code
    # and regímenes. A production padrón is confidential (Anexo 29), so findings must not reveal them.
    datos_publicos: bool

    def lookup(self, rfc: str) -> Contribuyente | None:
        """The RFC in l_RFC, or None."""

    def nombre_inscrito(self, nombre: str) -> bool:
        """Whether some RFC of l_RFC has this name."""

    def codigo_postal_inscrito(self, codigo_postal: str) -> bool:
        """Whether some RFC of l_RFC has its domicilio fiscal at this postal code."""

    def confirmacion_valida(self, clave: str, rfc: str) -> bool:
        """Whether this PAC gave `clave` to the emisor `rfc` (CFDI40128)."""

    def confirmacion_usada(self, clave: str) -> bool:
        """Whether a stamped CFDI already used `clave` (CFDI40129)."""

    def usar_confirmacion(self, clave: str) -> bool:
        """Mark `clave` used, atomically; False when it was used already."""

    def operacion_adquirente_valida(self, numero: str, rfc: str) -> bool:
        """Whether SAT's service for invoicing through the adquirente gave `numero` for the emisor `rfc`."""

    def tipo_cambio(self, moneda: str, fecha: date) -> Decimal | None:
        """SAT's reference rate (pesos per unit of `moneda`) for a CFDI dated `fecha`; None when unknown."""


class MemoryPadron:
    """A padrón held in memory, filled with `register*`. Empty and strict, it knows nobody."""

    def __init__(self, *, permissive: bool = False, datos_publicos: bool = False) -> None:
        self.permissive = permissive
        self.datos_publicos = datos_publicos
        self._lock = threading.Lock()
        self._rfcs: dict[str, Contribuyente] = {}
        self._nombres: set[str] = set()
        self._codigos_postales: set[str] = set()
        self._confirmaciones: dict[str, str | None] = {}  # clave -> emisor's RFC (None: any emisor)
        self._usadas: set[str] = set()
        self._operaciones: dict[str, str | None] = {}  # FacAtrAdquirente -> emisor's RFC (None: any)
        self._tipos_cambio: dict[tuple[str, date], Decimal] = {}

    # -- filling ---------------------------------------------------------------------------------------
    def register(self, c: Contribuyente) -> None:
        """Add or replace an RFC."""
        with self._lock:
            self._rfcs[_rfc_key(c.rfc)] = c
            self._nombres.add(collapse(c.nombre))
            if c.codigo_postal:
                self._codigos_postales.add(collapse(c.codigo_postal))

    def register_confirmacion(self, clave: str, rfc: str | None = None) -> None:
        """A Confirmacion key this PAC gave to the emisor `rfc` (None: to any emisor)."""
        with self._lock:
            self._confirmaciones[clave] = None if rfc is None else _rfc_key(rfc)

    def emitir_confirmacion(self, rfc: str) -> str:
        """A new Confirmacion key for the emisor `rfc` (five letters and digits, as the XSD asks)."""
        with self._lock:
            while True:
                clave = "".join(secrets.choice(_CLAVE_CHARS) for _ in range(5))
                if clave not in self._confirmaciones:
                    self._confirmaciones[clave] = _rfc_key(rfc)
                    return clave

    def register_operacion_adquirente(self, numero: str, rfc: str | None = None) -> None:
        with self._lock:
            self._operaciones[numero] = None if rfc is None else _rfc_key(rfc)

    def register_tipo_cambio(self, moneda: str, fecha: date, valor: Decimal) -> None:
        """SAT's reference rate of `moneda` published for `fecha`."""
        with self._lock:
            self._tipos_cambio[(moneda, fecha)] = valor

    # -- Padron ----------------------------------------------------------------------------------------
    def lookup(self, rfc: str) -> Contribuyente | None:
        return self._rfcs.get(_rfc_key(rfc))

    def nombre_inscrito(self, nombre: str) -> bool:
        return collapse(nombre) in self._nombres

    def codigo_postal_inscrito(self, codigo_postal: str) -> bool:
        return collapse(codigo_postal) in self._codigos_postales

    def confirmacion_valida(self, clave: str, rfc: str) -> bool:
        return _given_to(self._confirmaciones, clave, rfc)

    def confirmacion_usada(self, clave: str) -> bool:
        return clave in self._usadas

    def usar_confirmacion(self, clave: str) -> bool:
        with self._lock:
            if clave in self._usadas:
                return False
            self._usadas.add(clave)
            return True

    def operacion_adquirente_valida(self, numero: str, rfc: str) -> bool:
        return _given_to(self._operaciones, numero, rfc)

    def tipo_cambio(self, moneda: str, fecha: date) -> Decimal | None:
        """The rate registered for `fecha`, else the latest one of the TIPO_CAMBIO_MAX_DIAS before it
        (weekends and holidays have no publication of their own)."""
        for back in range(TIPO_CAMBIO_MAX_DIAS + 1):
            got = self._tipos_cambio.get((moneda, fecha - timedelta(days=back)))
            if got is not None:
                return got
        return None


@lru_cache(maxsize=1)
def sandbox_contribuyentes() -> tuple[Contribuyente, ...]:
    """SAT's published test RFCs (read once)."""
    payload = json.loads(SANDBOX_FILE.read_text(encoding="utf-8"))
    return tuple(
        Contribuyente(rfc=c["rfc"], nombre=c["nombre"], codigo_postal=c.get("codigo_postal"),
                      regimenes=tuple(c.get("regimenes") or ()), puede_facturar=bool(c.get("lco", True)),
                      retencion=int(c.get("retencion") or 0))
        for c in payload["contribuyentes"]
    )


class SandboxPadron(MemoryPadron):
    """SAT's test RFCs (public data, so findings show the registered values), plus what is registered."""

    def __init__(self, *, permissive: bool = False) -> None:
        super().__init__(permissive=permissive, datos_publicos=True)
        for c in sandbox_contribuyentes():
            self.register(c)
