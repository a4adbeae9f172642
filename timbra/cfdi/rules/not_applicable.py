"""Matrix codes timbra does not implement as a rule, each with the reason (shown in docs/validations.md).

A code belongs here only when a rule cannot or need not report it: what another layer already enforces
with its own code (the XSD, the seal check) or what only SAT itself can check. Everything else is a rule.
"""
from __future__ import annotations

# code -> reason (Spanish first: the table is read by ERP programmers in Mexico)
NOT_APPLICABLE: dict[str, str] = {}

# -- Nómina 1.2 rev. D (matrix nomina12; rules in timbra/cfdi/rules/complementos/nomina12.py) ---------------
_NOM_L_RFC = "requiere la lista de RFC inscritos no cancelados del SAT (l_RFC), que sólo el SAT consulta al timbrar"
NOT_APPLICABLE.update({
    "NOM10": "Lo garantiza el esquema XSD (301): nomina12:Receptor y su atributo Curp son obligatorios "
             "(use=\"required\"), así que la CURP existe también con el RFC genérico XAXX010101000.",
    "NOM45": "La marca de entidad adherida al Sistema Nacional de Coordinación Fiscal del RFC del emisor está "
             f"en l_RFC: {_NOM_L_RFC}.",
    "NOM46": "La marca de entidad adherida al Sistema Nacional de Coordinación Fiscal del RFC del emisor está "
             f"en l_RFC: {_NOM_L_RFC}.",
    "NOM109": "Código genérico del SAT para errores no tipificados: timbra reporta cada condición de la matriz con "
              "su propio código, y una regla que falla internamente con CFDI40999.",
})

# -- Carta Porte 3.1 (matrix cartaporte31; rules in timbra/cfdi/rules/complementos/cartaporte31.py) ----------
NOT_APPLICABLE.update({
    "CP101": "Lo garantiza el esquema XSD (301): el esquema de CFDI 3.3 no declara el complemento Carta Porte 3.1 "
             "y su nodo Complemento sólo admite complementos declarados, así que un CFDI con Carta Porte 3.1 "
             "que llega a las reglas es versión 4.0.",
    "CP115": "Lo garantiza el esquema XSD (301): el atributo Version de CartaPorte es obligatorio con valor fijo "
             "(fixed=\"3.1\").",
    "CP999": "Código genérico del SAT para errores no clasificados: timbra reporta cada condición de la matriz con "
             "su propio código, y una regla que falla internamente con CFDI40999.",
})

# -- Pagos 2.0 (matrix pagos20; rules in timbra/cfdi/rules/complementos/pagos20.py) --------------------------
NOT_APPLICABLE.update({
    "CRP20249": "Lo garantiza el esquema XSD (301): BaseDR de RetencionDR tiene minInclusive 0.000001.",
    "CRP20255": "Lo garantiza el esquema XSD (301): BaseDR de TrasladoDR tiene minInclusive 0.000001.",
    "CRP20275": "Con la fórmula del SAT los límites de cada ImpPagado se calculan desde el propio ImpPagado y su "
                "EquivalenciaDR, así que cada importe convertido queda siempre entre ellos; donde la comparación sí "
                "puede fallar, la suma de esos límites contra Monto, timbra reporta CRP20276.",
    "CRP20277": "No es una condición de error sino una regla de cálculo: timbra la aplica en CRP20276 "
                "(EquivalenciaDR 1 "
                "con 10 decimales para los documentos en la moneda del pago); una EquivalenciaDR distinta de 1 en la "
                "misma moneda la reporta CRP20238.",
    "CRP20999": "Error no clasificado del SAT, sin condición propia; una regla de timbra que falla al evaluarse se "
                "reporta con CFDI40999.",
})
