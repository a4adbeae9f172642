"""Matrix codes timbra does not implement as a rule, each with the reason (shown in docs/validations.md).

A code belongs here only when a rule cannot or need not report it: what another layer already enforces
with its own code (the XSD, the seal check) or what only SAT itself can check. Everything else is a rule.
"""
from __future__ import annotations

# code -> reason (Spanish first: the table is read by ERP programmers in Mexico)
NOT_APPLICABLE: dict[str, str] = {}
