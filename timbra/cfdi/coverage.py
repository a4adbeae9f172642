"""Which code of each SAT matrix timbra checks, and how: the data behind docs/validations.md.

A code is "implemented" when a rule declares it (timbra.cfdi.rules registry). "Tested" is what a test run
observed, not what the tests' text names: the run records (tests/observe.py) whether a test saw a rule report
the code on a document and whether a test saw a document pass through that rule; the committed evidence is
docs/observed-rules.json (`make validations` regenerates it and the table). A code whose SAT data timbra's
catalogs lack is "not evaluated" (timbra.cfdi.rules.DataNeed) until the data is present. A code may instead be
declared not applicable with a reason (timbra.cfdi.rules.not_applicable). `IN_SCOPE` matrices must have every
code accounted for.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from timbra.cfdi.rules import REGISTRY, DataNeed, _load_rule_modules, missing_data
from timbra.cfdi.rules.not_applicable import NOT_APPLICABLE
from timbra.sat.catalogs import Catalogs, catalogs
from timbra.sat.matrices import MATRICES, matrix

# Codes reported outside the rule modules, and by what.
ENFORCED_ELSEWHERE = {
    "CFDI40102": "timbra/cfdi/seal.py: verificación del Sello",
    "CFDI40106": "timbra/cfdi/seal.py: certificado ilegible o NoCertificado distinto",
    "CFDI40999": "timbra/cfdi/rules/__init__.py: una regla que falla se reporta con este código",
}

IN_SCOPE = ("cfdi40", "pagos20", "nomina12", "cartaporte31")
TITLES = {
    "cfdi40": "CFDI 4.0 (Anexo 20, matriz 2024-12-13)",
    "pagos20": "Complemento para recepción de Pagos 2.0 (rev. B)",
    "nomina12": "Complemento de Nómina 1.2 (rev. D, 2025-02-21)",
    "cartaporte31": "Complemento Carta Porte 3.1",
    "cce20": "Complemento de Comercio Exterior 2.0",
    "cfdi33": "CFDI 3.3",
    "retenciones20": "CFDI de Retenciones e información de pagos 2.0",
}


@dataclass(frozen=True)
class Observed:
    """What a test run saw (tests/observe.py): codes a rule reported, codes a document passed through."""

    reported: frozenset[str]
    passed: frozenset[str]

    @classmethod
    def load(cls, path: Path) -> Observed:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(frozenset(data["reported"]), frozenset(data["passed"]))


@dataclass(frozen=True)
class Coverage:
    matrix: str
    code: str
    elemento: str
    atributo: str
    descripcion: str
    implemented: bool
    reported: bool  # a test saw a rule report it
    passed: bool  # a test saw a document pass through its rule
    not_applicable: str | None
    missing_data: DataNeed | None = None  # SAT data the shipped catalogs lack (the whole code or a part)

    @property
    def tested(self) -> bool:
        return self.reported and self.passed

    @property
    def not_evaluated(self) -> bool:
        """The whole code cannot fire with the shipped catalogs."""
        return self.missing_data is not None and self.missing_data.part is None

    @property
    def status(self) -> str:
        if self.not_applicable is not None:
            return "no aplica"
        if not self.implemented:
            return "pendiente"
        if self.not_evaluated:
            return self.missing_data.reason()
        if self.tested:
            status = "implementado y probado"
        elif self.reported:
            status = "implementado; visto reportar, sin documento observado que pase la regla"
        elif self.passed:
            status = "implementado; sin prueba observada que lo reporte"
        else:
            status = "implementado, sin prueba observada"
        if self.missing_data is not None:
            status += f"; {self.missing_data.reason()}"
        return status

    @property
    def ok(self) -> bool:
        return self.not_applicable is not None or (self.implemented and (self.tested or self.not_evaluated))


def coverage(observed: Observed, cats: Catalogs | None = None) -> dict[str, list[Coverage]]:
    """Every code of every matrix with what `observed` (a test run) saw, against the catalogs `cats` (SAT's
    shipped ones by default)."""
    from timbra.cfdi.rules.claves import COMPLEMENT_CODES

    _load_rule_modules()
    implemented = {c for r in REGISTRY for c in r.codes} | set(COMPLEMENT_CODES.values()) | set(ENFORCED_ELSEWHERE)
    missing = missing_data(cats or catalogs())
    out = {}
    for name in MATRICES:
        out[name] = [Coverage(name, r["codigo"], r.get("elemento", ""), r.get("atributo", ""),
                              r.get("descripcion", ""), r["codigo"] in implemented, r["codigo"] in observed.reported,
                              r["codigo"] in observed.passed, NOT_APPLICABLE.get(r["codigo"]),
                              missing.get(r["codigo"]))
                     for r in matrix(name)]
    return out


def markdown(cov: dict[str, list[Coverage]]) -> str:
    lines = ["# Validaciones / validations", "",
             "Generado por `make validations` (`scripts/validations_table.py --observed docs/observed-rules.json`; "
             "no editar a mano / generated, do not edit).", "",
             "Cada código de cada matriz de errores del SAT, con lo que timbra hace con él. \"Probado\" es lo que "
             "una corrida de las pruebas observó (tests/observe.py), no lo que el texto de las pruebas menciona: "
             "una prueba vio a la regla reportar el código en un documento y otra vio un documento pasar por la "
             "misma regla sin que lo reportara; los documentos revisados con filas de catálogo que la prueba "
             "inyecta no cuentan. Every code of SAT's error matrices and what timbra does with it; \"tested\" "
             "means a test run saw the rule report the code and saw a document pass through the same rule.", "",
             "| matriz | códigos | implementados y probados | con prueba incompleta | no evaluados (faltan datos del "
             "SAT) | no aplica | pendientes |", "|---|---|---|---|---|---|---|"]
    for name, rows in cov.items():
        live = [r for r in rows if r.not_applicable is None and r.implemented and not r.not_evaluated]
        done = sum(r.tested for r in live)
        ne = sum(r.not_applicable is None and r.implemented and r.not_evaluated for r in rows)
        na = sum(r.not_applicable is not None for r in rows)
        pending = sum(r.not_applicable is None and not r.implemented for r in rows)
        lines.append(f"| {TITLES[name]} | {len(rows)} | {done} | {len(live) - done} | {ne} | {na} | {pending} |")
    for name, rows in cov.items():
        lines += ["", f"## {TITLES[name]}", ""]
        if name not in IN_SCOPE:
            lines += ["Fuera del alcance actual (issue #4: siguiente etapa).", ""]
        lines += ["| código | nodo | estado | descripción del SAT |", "|---|---|---|---|"]
        for r in rows:
            node = "@".join(x for x in (r.elemento, r.atributo) if x)
            status = r.status if r.not_applicable is None else f"no aplica: {r.not_applicable}"
            desc = r.descripcion.replace("|", "\\|")
            lines.append(f"| {r.code} | {node.replace('|', '/')} | {status} | {desc} |")
    return "\n".join(lines) + "\n"
