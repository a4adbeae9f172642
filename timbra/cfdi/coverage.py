"""Which code of each SAT matrix timbra checks, and how: the data behind docs/validations.md.

A code is "implemented" when a rule declares it (timbra.cfdi.rules registry) and "tested" when a test
under tests/ names it; a code may instead be declared not applicable with a reason
(timbra.cfdi.rules.not_applicable). `IN_SCOPE` matrices must have every code one or the other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from timbra.cfdi.rules import REGISTRY, _load_rule_modules
from timbra.cfdi.rules.not_applicable import NOT_APPLICABLE
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
class Coverage:
    matrix: str
    code: str
    elemento: str
    atributo: str
    descripcion: str
    implemented: bool
    tested: bool
    not_applicable: str | None

    @property
    def status(self) -> str:
        if self.not_applicable is not None:
            return "no aplica"
        if self.implemented and self.tested:
            return "implementado y probado"
        if self.implemented:
            return "implementado, sin prueba"
        return "pendiente"

    @property
    def ok(self) -> bool:
        return self.not_applicable is not None or (self.implemented and self.tested)


def codes_named_in(folder: Path) -> set[str]:
    """Every SAT-looking code written in the .py files of a folder (CFDI40101, CRP20101, NOM12, CP101...)."""
    pattern = re.compile(r"\b(?:CFDI1?40\d{3}|CFDI33\d{3}|CRP20\d{3}|NOM\d{1,3}|CP\d{3}|CCE\d{3}|Reten20\d{3}|"
                         r"[3-4]0\d)\b")
    found: set[str] = set()
    for f in folder.rglob("*.py"):
        found.update(pattern.findall(f.read_text(encoding="utf-8")))
    return found


def coverage(tests_dir: Path) -> dict[str, list[Coverage]]:
    from timbra.cfdi.rules.claves import COMPLEMENT_CODES

    _load_rule_modules()
    implemented = {c for r in REGISTRY for c in r.codes} | set(COMPLEMENT_CODES.values()) | set(ENFORCED_ELSEWHERE)
    tested = codes_named_in(tests_dir)
    out = {}
    for name in MATRICES:
        out[name] = [Coverage(name, r["codigo"], r.get("elemento", ""), r.get("atributo", ""),
                              r.get("descripcion", ""), r["codigo"] in implemented, r["codigo"] in tested,
                              NOT_APPLICABLE.get(r["codigo"]))
                     for r in matrix(name)]
    return out


def markdown(cov: dict[str, list[Coverage]]) -> str:
    lines = ["# Validaciones / validations", "",
             "Generado por `scripts/validations_table.py` (no editar a mano / generated, do not edit).", "",
             "Cada código de cada matriz de errores del SAT, con lo que timbra hace con él. "
             "Every code of SAT's error matrices and what timbra does with it.", "",
             "| matriz | códigos | implementados y probados | no aplica | pendientes |", "|---|---|---|---|---|"]
    for name, rows in cov.items():
        done = sum(r.implemented and r.tested and r.not_applicable is None for r in rows)
        na = sum(r.not_applicable is not None for r in rows)
        lines.append(f"| {TITLES[name]} | {len(rows)} | {done} | {na} | {len(rows) - done - na} |")
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
