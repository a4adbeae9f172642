"""SAT's catalogs in memory.

Built by scripts/import_sat_data.py into one gzip'd JSON file (loads in ~0.3 s, once per process):
- `enumerations`: the values each catalog XSD type allows (taken out of the lean XSDs);
- `bindings`: which attribute of which element is typed by which catalog;
- `tables`: SAT's catalog tables with their extra columns (decimals of a currency, the persona a régimen
  applies to, the time zone of a postal code, ...).
"""
from __future__ import annotations

import gzip
import json
import threading
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from timbra.sat import DATA

CATCFDI = "http://www.sat.gob.mx/sitio_internet/cfd/catalogos"

# c_CodigoPostal's DescripcionHusoHorario -> IANA zone. "Tiempo del Noroeste" is Baja California
# (America/Tijuana, with US daylight saving); "Centro en Frontera" are the northern border
# municipalities that keep US daylight saving with Central time (America/Matamoros).
HUSOS = {
    "Tiempo del Centro": "America/Mexico_City",
    "Tiempo del Centro en Frontera": "America/Matamoros",
    "Tiempo del Noroeste": "America/Tijuana",
    "Tiempo del Pacífico": "America/Mazatlan",
    "Tiempo del Pacífico en Frontera": "America/Ciudad_Juarez",
    "Tiempo del Sureste": "America/Cancun",
}


def collapse(value: str) -> str:
    """XSD whiteSpace="collapse", as SAT's catalog types declare it."""
    return " ".join(value.split())


class Catalogs:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.version: str = payload["version"]
        self._enums_raw: dict[str, list[str]] = payload["enumerations"]
        self._enums: dict[str, frozenset[str]] = {}
        self.bindings: dict[str, dict[str, dict[str, str]]] = payload["bindings"]
        self._tables_raw: dict[str, dict[str, Any]] = payload["tables"]
        self._indexes: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls) -> Catalogs:
        with gzip.open(DATA / "catalogs.json.gz", "rb") as fh:
            return cls(json.loads(fh.read()))

    # -- generic -----------------------------------------------------------------------------------
    def enum(self, qname: str) -> frozenset[str]:
        """Values of a catalog type, e.g. enum("{...catalogos}c_FormaPago")."""
        got = self._enums.get(qname)
        if got is None:
            got = self._enums[qname] = frozenset(self._enums_raw.get(qname, ()))
        return got

    def cfdi(self, name: str) -> frozenset[str]:
        """Values of one of catCFDI's types, e.g. cfdi("c_Moneda")."""
        return self.enum(f"{{{CATCFDI}}}{name}")

    def has_table(self, name: str) -> bool:
        return name in self._tables_raw

    def rows(self, table: str) -> list[dict[str, Any]]:
        t = self._tables_raw[table]
        cols = t["columns"]
        return [dict(zip(cols, r, strict=False)) for r in t["rows"]]

    def index(self, table: str, key: str = "id") -> dict[str, dict[str, Any]]:
        got = self._indexes.get((table, key))
        if got is None:
            with self._lock:
                got = {str(r[key]): r for r in self.rows(table)}
                self._indexes[(table, key)] = got
        return got

    def row(self, table: str, code: str, key: str = "id") -> dict[str, Any] | None:
        return self.index(table, key).get(code)

    # -- CFDI 4.0 helpers ----------------------------------------------------------------------------
    def moneda(self, code: str) -> dict[str, Any] | None:
        return self.row("cfdi_40_monedas", code)

    def moneda_decimals(self, code: str) -> int | None:
        m = self.moneda(code)
        return int(m["decimales"]) if m else None

    def regimen(self, code: str) -> dict[str, Any] | None:
        return self.row("cfdi_40_regimenes_fiscales", code)

    def uso_cfdi(self, code: str) -> dict[str, Any] | None:
        return self.row("cfdi_40_usos_cfdi", code)

    def tipo_comprobante(self, code: str) -> dict[str, Any] | None:
        return self.row("cfdi_40_tipos_comprobantes", code)

    def clave_prod_serv(self, code: str) -> dict[str, Any] | None:
        return self.row("c_ClaveProdServ", code, "c_ClaveProdServ")

    def codigo_postal(self, code: str) -> dict[str, Any] | None:
        return self.row("c_CodigoPostal", code, "c_CodigoPostal")

    @cached_property
    def _zones(self) -> dict[str, ZoneInfo]:
        return {desc: ZoneInfo(name) for desc, name in HUSOS.items()}

    def zone_for_postal_code(self, code: str) -> ZoneInfo | None:
        """The time zone of a c_CodigoPostal (LugarExpedicion), or None for an unknown code."""
        cp = self.codigo_postal(code)
        if cp is None:
            return None
        return self._zones.get(cp["DescripcionHusoHorario"], self._zones["Tiempo del Centro"])

    @cached_property
    def tasa_cuota_rules(self) -> list[dict[str, Any]]:
        return self.rows("cfdi_40_reglas_tasa_cuota")


_catalogs: Catalogs | None = None
_load_lock = threading.Lock()


def catalogs() -> Catalogs:
    """The process-wide catalogs, loaded on first use."""
    global _catalogs
    if _catalogs is None:
        with _load_lock:
            if _catalogs is None:
                _catalogs = Catalogs.load()
    return _catalogs
