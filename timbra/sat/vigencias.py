"""When each CFDI version and complement was in force: one table, read with the validation's "as of" instant.

A PAC stamps a version or complement only while SAT accepts it. `timbra validate --at` and `timbra verify`
(as of FechaTimbrado) ask this table, so a document is judged by the rules in force at that moment.
Dates are SAT's, as local dates of Mexico City (SAT's clock); `fin` is the last day accepted.

Sources (SAT's announcements, as transcribed by PACs and the press; the SAT pages themselves are not shipped):
- CFDI 3.3: Anexo 20 versión 3.3 en vigor el 2017-07-01; SAT dejó de aceptarla el 2023-03-31 (fin del periodo de
  convivencia con 4.0, RMF 2023 transitorio).
- CFDI 4.0: Anexo 20 versión 4.0 en vigor el 2022-01-01.
- Comercio Exterior 1.1: aceptado en CFDI 4.0 hasta el 2024-01-17; SAT publicó la versión 2.0 el 2023-12-19 y
  la hizo obligatoria a partir del 2024-01-18.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from timbra.clock import MEXICO_CITY

NS_CCE11 = "http://www.sat.gob.mx/ComercioExterior11"
NS_CCE20 = "http://www.sat.gob.mx/ComercioExterior20"


@dataclass(frozen=True)
class Vigencia:
    nombre: str
    inicio: date | None  # first day accepted; None: not checked
    fin: date | None  # last day accepted; None: still in force

    def en_vigor(self, moment: datetime | date) -> bool:
        day = moment.astimezone(MEXICO_CITY).date() if isinstance(moment, datetime) else moment
        return (self.inicio is None or day >= self.inicio) and (self.fin is None or day <= self.fin)

    def retirada(self, moment: datetime | date) -> bool:
        """Whether `moment` is after the last day accepted."""
        day = moment.astimezone(MEXICO_CITY).date() if isinstance(moment, datetime) else moment
        return self.fin is not None and day > self.fin

    def texto(self) -> str:
        desde = self.inicio.isoformat() if self.inicio else "..."
        hasta = self.fin.isoformat() if self.fin else "hoy"
        return f"{self.nombre}: vigente del {desde} al {hasta}"


# Key: the CFDI Version ("3.3", "4.0") or the complement's namespace.
VIGENCIAS: dict[str, Vigencia] = {
    "3.3": Vigencia("CFDI 3.3", date(2017, 7, 1), date(2023, 3, 31)),
    "4.0": Vigencia("CFDI 4.0", date(2022, 1, 1), None),
    NS_CCE11: Vigencia("Comercio Exterior 1.1", None, date(2024, 1, 17)),
    NS_CCE20: Vigencia("Comercio Exterior 2.0", date(2024, 1, 18), None),
}


def vigencia(key: str) -> Vigencia | None:
    return VIGENCIAS.get(key)


def en_vigor(key: str, moment: datetime | date) -> bool:
    """Whether the version or complement `key` is accepted at `moment`; True for what the table does not list."""
    v = VIGENCIAS.get(key)
    return v is None or v.en_vigor(moment)


def comercio_exterior_en_vigor(moment: datetime | date) -> frozenset[str]:
    """The Comercio Exterior namespaces SAT accepts at `moment`."""
    return frozenset(ns for ns in (NS_CCE11, NS_CCE20) if en_vigor(ns, moment))
