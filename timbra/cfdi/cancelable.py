"""SAT's cancellation rules since 2022-01-01, pure: whether a CFDI cancels with or without the receptor's
acceptance (EsCancelable), the receptor's three business days, the yearly deadline, the Motivo and
FolioSustitucion rules, and which of SAT's per-UUID answer codes (timbra.codes.CANCELLATION_CODES) applies.

A CFDI comes in as plain facts (`Hechos`), instants as aware datetimes; nothing here reads a clock, a
database or the network. The sandbox SAT (gateway/) and pac/ call these functions.

Sources: RMF 2.7.1.35 (cancellation without acceptance), RMF 2.7.1.34 and CFF art. 12 (three business days;
silence is acceptance), CFF art. 29-A para. 4 and RMF 2.7.1.46 (yearly deadline), LFT art. 74 (official
holidays), SAT's Cancelacion service and the EstatusUUID codes as public PAC clients report them.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from timbra.cfdi.rfc import RFC_GENERICO_EXTRANJERO, RFC_GENERICO_NACIONAL
from timbra.clock import MEXICO_CITY
from timbra.codes import cancellation_text

MONTO_SIN_ACEPTACION = Decimal("1000.00")
"""RMF 2.7.1.35 fr. I: a CFDI whose total is up to $1,000.00 MXN cancels without acceptance."""

DIAS_PLAZO_RECEPTOR = 3
"""RMF 2.7.1.34 / CFF 29-A: the receptor has three business days to accept or reject."""


class EsCancelable(StrEnum):
    """ConsultaCFDIService's EsCancelable, SAT's exact texts."""
    SIN_ACEPTACION = "Cancelable sin aceptación"
    CON_ACEPTACION = "Cancelable con aceptación"
    NO_CANCELABLE = "No cancelable"


class Motivo(StrEnum):
    """c_Motivo of the Cancelacion request."""
    CON_RELACION = "01"      # Comprobante emitido con errores con relación
    SIN_RELACION = "02"      # Comprobante emitido con errores sin relación
    NO_OPERACION = "03"      # No se llevó a cabo la operación
    FACTURA_GLOBAL = "04"    # Operación nominativa relacionada en una factura global


def texto_codigo(code: str) -> tuple[str, str]:
    """(es-MX, en) text of a cancellation service code; KeyError for a code SAT's service does not answer.
    An alias of timbra.codes.cancellation_text: the cancellation codes live in timbra/codes.py, in their own
    table (CANCELLATION_CODES) apart from the stamping codes, whose 301-308 mean other things."""
    return cancellation_text(code)


# ---------------------------------------------------------------------------------------------- calendar

def _nth_monday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


def dias_festivos(year: int) -> frozenset[date]:
    """Mexico's official holidays of `year` (LFT art. 74, with the Monday rules in force since 2006):
    1 January; first Monday of February (5 Feb); third Monday of March (21 Mar); 1 May; 16 September;
    third Monday of November (20 Nov); 25 December; and the federal executive's transfer day, every six
    years: 1 October since 2024 (the presidential term starts that day), 1 December before (2018, 2012, ...).
    Election days (fr. IX) and SAT's own vacation days are not computable from the year and are not included."""
    days = {date(year, 1, 1), _nth_monday(year, 2, 1), _nth_monday(year, 3, 3), date(year, 5, 1),
            date(year, 9, 16), _nth_monday(year, 11, 3), date(year, 12, 25)}
    if year >= 2024 and (year - 2024) % 6 == 0:
        days.add(date(year, 10, 1))
    elif year < 2024 and (2024 - year) % 6 == 0:
        days.add(date(year, 12, 1))
    return frozenset(days)


def es_dia_habil(d: date) -> bool:
    """CFF art. 12: Saturdays, Sundays and the official holidays are not business days."""
    return d.weekday() < 5 and d not in dias_festivos(d.year)


def dia_habil_siguiente(d: date, n: int = 1) -> date:
    """The n-th business day after `d` (not counting `d` itself)."""
    while n > 0:
        d += timedelta(days=1)
        if es_dia_habil(d):
            n -= 1
    return d


def _local(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(MEXICO_CITY)


def _start_of_day(d: date) -> datetime:
    return datetime.combine(d, time(0), MEXICO_CITY)


def fin_plazo_receptor(requested_at: datetime) -> datetime:
    """The instant the receptor's three business days end (RMF 2.7.1.34, CFF art. 12: a term starts the day
    after the request and counts business days only, in Mexico City time): midnight at the end of the third
    business day after the day of the request."""
    last = dia_habil_siguiente(_local(requested_at).date(), DIAS_PLAZO_RECEPTOR)
    return _start_of_day(last + timedelta(days=1))


def plazo_vencido(requested_at: datetime, now: datetime) -> bool:
    """True once the receptor's three business days have passed without an answer (SAT then cancels the CFDI
    with EstatusCancelacion "Plazo vencido")."""
    return now >= fin_plazo_receptor(requested_at)


def fecha_limite_cancelacion(fecha_emision: datetime, rfc_emisor: str) -> date:
    """Last day a CFDI can be cancelled (CFF art. 29-A para. 4: only in the fiscal year of issue; RMF 2025
    2.7.1.46, earlier 2.7.1.47: until the month in which the annual return of the year of issue is due):
    31 March of the next year for personas morales (12-character RFC), 30 April for personas físicas.
    Not applied: a reported 2026 change to 31 January of the next year, not confirmed against RMF 2026."""
    year = _local(fecha_emision).year + 1
    month = 3 if len(rfc_emisor) == 12 else 4
    return date(year, month, calendar.monthrange(year, month)[1])


# ---------------------------------------------------------------------------------------------- the CFDI

@dataclass(frozen=True)
class Hechos:
    """What the cancellation rules need to know of one CFDI; plain values, no XML.

    `total` and `tipo_cambio` as in the Comprobante (MXN has TipoCambio 1). `relacionados_vivos` are the
    UUIDs of CFDI that relate to this one (its children) and are not cancelled."""
    uuid: str
    rfc_emisor: str
    rfc_receptor: str
    tipo_de_comprobante: str                 # I, E, T, N, P
    total: Decimal
    fecha_timbrado: datetime
    tipo_cambio: Decimal = Decimal(1)
    fecha_emision: datetime | None = None    # Comprobante@Fecha; FechaTimbrado when unknown
    nomina: bool = False
    retencion: bool = False                  # CFDI de retenciones e información de pagos
    informacion_global: bool = False         # a factura global (InformacionGlobal)
    carta_porte_hidrocarburos: bool = False  # CartaPorte carrying claves 15101505/15101514/15101515
    receptor_rif: bool = False               # ingresos to a taxpayer of the former RIF
    sector_primario: bool = False            # issued by a PCGCFDISP for the sector primario
    sistema_financiero: bool = False
    federacion: bool = False                 # derechos, productos, aprovechamientos of the Federación
    relacionados_vivos: tuple[str, ...] = ()

    @property
    def total_mxn(self) -> Decimal:
        return self.total * self.tipo_cambio


@dataclass(frozen=True)
class Evaluacion:
    es_cancelable: EsCancelable
    fundamento: str            # the rule that decided, e.g. "RMF 2.7.1.35 fr. I"
    codigo: str | None = None  # SAT's answer code for a request now, when not cancelable


def evaluar(h: Hechos, now: datetime) -> Evaluacion:
    """EsCancelable of `h` at `now`, with the rule that decided it.

    No cancelable: while live CFDI relate to it (SAT refuses until they are cancelled; code 204, the
    closest of SAT's per-UUID codes: the public clients only report "no cancelable"); after the yearly
    deadline (code 210). Otherwise RMF 2.7.1.35's list decides "sin aceptación"; everything else is "con
    aceptación"."""
    if h.relacionados_vivos:
        return Evaluacion(EsCancelable.NO_CANCELABLE, "CFDI relacionados vigentes", "204")
    emision = h.fecha_emision or h.fecha_timbrado
    if _local(now).date() > fecha_limite_cancelacion(emision, h.rfc_emisor):
        return Evaluacion(EsCancelable.NO_CANCELABLE, "CFF 29-A / RMF 2.7.1.46", "210")
    fraccion = fraccion_sin_aceptacion(h, now)
    if fraccion:
        return Evaluacion(EsCancelable.SIN_ACEPTACION, f"RMF 2.7.1.35 fr. {fraccion}")
    return Evaluacion(EsCancelable.CON_ACEPTACION, "RMF 2.7.1.34")


def es_cancelable(h: Hechos, now: datetime) -> EsCancelable:
    """SAT's EsCancelable for the CFDI `h` at the instant `now`."""
    return evaluar(h, now).es_cancelable


def fraccion_sin_aceptacion(h: Hechos, now: datetime) -> str | None:
    """The fraction of RMF 2.7.1.35 under which `h` cancels without the receptor's acceptance, or None:
    I total up to $1,000.00 MXN (Total × TipoCambio; not for Pagos, whose Total is 0 by rule);
    II nómina; III egresos; IV traslado (except CartaPorte carrying hydrocarbon claves); V ingresos to the
    former RIF; VI retenciones e información de pagos; VII operations with the público en general
    (XAXX010101000, rule 2.7.1.21: facturas globales); VIII residents abroad (XEXX010101000, rule 2.7.1.23);
    IX cancelled at the latest on the business day after its certification (FechaTimbrado, Mexico City);
    X sector primario; XI sistema financiero; XII the Federación's derechos, productos y aprovechamientos."""
    tipo = h.tipo_de_comprobante
    if tipo != "P" and h.total_mxn <= MONTO_SIN_ACEPTACION:
        return "I"
    if h.nomina or tipo == "N":
        return "II"
    if tipo == "E":
        return "III"
    if tipo == "T" and not h.carta_porte_hidrocarburos:
        return "IV"
    if tipo == "I" and h.receptor_rif:
        return "V"
    if h.retencion:
        return "VI"
    if h.rfc_receptor == RFC_GENERICO_NACIONAL or h.informacion_global:
        return "VII"
    if h.rfc_receptor == RFC_GENERICO_EXTRANJERO:
        return "VIII"
    if _local(now).date() <= dia_habil_siguiente(_local(h.fecha_timbrado).date()):
        return "IX"
    if h.sector_primario:
        return "X"
    if h.sistema_financiero:
        return "XI"
    if h.federacion:
        return "XII"
    return None


# ---------------------------------------------------------------------------------------------- motivo

@dataclass(frozen=True)
class Sustituto:
    """The CFDI named in FolioSustitucion: its emisor and the UUIDs it relates with TipoRelacion 04."""
    uuid: str
    rfc_emisor: str
    sustituye: tuple[str, ...] = ()


def revisar_motivo(h: Hechos, motivo: str | None, folio_sustitucion: str | None,
                   sustituto: Sustituto | None) -> str | None:
    """SAT's per-UUID code for a Motivo/FolioSustitucion that is not allowed for `h`, or None when it is:
    207 no or unknown Motivo; 209 a FolioSustitucion with Motivo 02-04; 208 Motivo 01 without one, naming
    the cancelled CFDI itself, or one SAT does not know (`sustituto` None) or of another emisor;
    212 the substitute does not relate to the cancelled CFDI with TipoRelacion 04; 204 Motivo 04 for a CFDI
    that is not a factura global (04 cancels a factura global whose operation got a nominative invoice)."""
    if motivo not in {m.value for m in Motivo}:
        return "207"
    if motivo != Motivo.CON_RELACION:
        if folio_sustitucion:
            return "209"
        if motivo == Motivo.FACTURA_GLOBAL and not (h.informacion_global
                                                   or h.rfc_receptor == RFC_GENERICO_NACIONAL):
            return "204"
        return None
    if not folio_sustitucion or folio_sustitucion.upper() == h.uuid.upper():
        return "208"
    if sustituto is None or sustituto.uuid.upper() != folio_sustitucion.upper() \
            or sustituto.rfc_emisor != h.rfc_emisor:
        return "208"
    if h.uuid.upper() not in {u.upper() for u in sustituto.sustituye}:
        return "212"
    return None
