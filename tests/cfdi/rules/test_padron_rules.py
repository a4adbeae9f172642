"""The rules that need SAT's lists (timbra.sat.padron), with the sandbox's copy of SAT's test RFCs.

The base document (tests.conftest make_xml) is EKU9003173C9 "ESCUELA KEMPER URGATE" invoicing URE180429TM6
"UNIVERSIDAD ROBOTICA ESPAÑOLA" (86991, 601) in MXN: it is clean against the strict sandbox padrón.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from tests.cfdi.rules.test_impuestos import recompute, set_taxes, tax
from tests.xmlhelp import node, q, setting
from timbra.cfdi.document import NS40, parse
from timbra.cfdi.rules import Context, run_rules
from timbra.errors import TimbraError
from timbra.pac.stamping import Certifier
from timbra.sat.catalogs import catalogs
from timbra.sat.padron import Contribuyente, MemoryPadron, SandboxPadron

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "comprobante40"
FECHA = date(2026, 11, 24)  # the base document's Fecha (NOW in Mexico City)
TERCERO = "Conceptos/Concepto[2]/ACuentaTerceros"
ISSUED = datetime(2025, 1, 1, tzinfo=timezone.utc)  # the test CSDs' not_before


@pytest.fixture
def padron() -> SandboxPadron:
    return SandboxPadron(permissive=False)


@pytest.fixture
def certifier_p(pac, trust, clock, padron) -> Certifier:
    return Certifier(pac=pac, trust=trust, clock=clock, padron=padron)


@pytest.fixture
def check(certifier_p):
    """(code, node, value, expected) of every finding, against the strict sandbox padrón."""
    def run(xml: bytes):
        return [(f.code, f.node, f.value, f.expected) for f in certifier_p.validate(xml).findings]
    return run


def emisor(**kw):
    return setting("cfdi:Emisor", **kw)


def receptor(**kw):
    return setting("cfdi:Receptor", **kw)


def comprobante(**kw):
    return setting(".", **kw)


def all_of(*mutations):
    def mutate(root):
        for m in mutations:
            m(root)
    return mutate


def test_base_document_is_clean_against_the_strict_sandbox_padron(make_xml, check):
    assert check(make_xml()) == []


# -- 402: the emisor in l_LCO -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def csd_desconocido(sandbox_ca):
    return sandbox_ca.issue("AAA010101AAA", "ACCEM SERVICIOS EMPRESARIALES", not_before=ISSUED)


def test_402_emisor_unknown_to_a_strict_padron(make_xml, check, csd_desconocido):
    assert check(make_xml(cred=csd_desconocido)) == [("402", "Emisor@Rfc", "AAA010101AAA", None)]


def test_402_emisor_known_but_not_in_lco(make_xml, check, padron):
    padron.register(replace(padron.lookup("EKU9003173C9"), puede_facturar=False))
    assert check(make_xml()) == [("402", "Emisor@Rfc", "EKU9003173C9", None)]


def test_402_is_refused_at_stamp_time(make_xml, certifier_p, csd_desconocido):
    with pytest.raises(TimbraError) as exc:
        certifier_p.stamp(make_xml(cred=csd_desconocido))
    assert exc.value.code == "402"


def test_402_unknown_emisor_passes_a_permissive_padron(make_xml, check, padron, csd_desconocido):
    padron.permissive = True
    assert check(make_xml(cred=csd_desconocido)) == []


def test_402_a_registered_emisor_passes(make_xml, check, padron, csd_desconocido):
    padron.register(Contribuyente(rfc="AAA010101AAA", nombre="ACCEM SERVICIOS EMPRESARIALES"))
    assert check(make_xml(cred=csd_desconocido)) == []


# -- CFDI40138 / CFDI40139: the emisor's Nombre ------------------------------------------------------------

def test_cfdi40138_emisor_nombre_not_in_the_list(make_xml, check):
    got = check(make_xml(emisor(Nombre="ESCUELA KEMPER URGATE SA DE CV")))
    assert got == [("CFDI40138", "Emisor@Nombre", "ESCUELA KEMPER URGATE SA DE CV", "ESCUELA KEMPER URGATE")]


def test_cfdi40139_emisor_nombre_of_another_rfc(make_xml, check):
    got = check(make_xml(emisor(Nombre="XENON INDUSTRIAL ARTICLES")))
    assert got == [("CFDI40139", "Emisor@Nombre", "XENON INDUSTRIAL ARTICLES", "ESCUELA KEMPER URGATE")]


def test_cfdi40138_cfdi40139_registered_name_with_other_spacing_passes(make_xml, check):
    assert check(make_xml(emisor(Nombre="ESCUELA  KEMPER URGATE"))) == []


def test_cfdi40138_a_confidential_padron_does_not_reveal_the_registered_name(pac, trust, clock, make_xml):
    padron = MemoryPadron()  # like SAT's real lists: not public
    padron.register(Contribuyente(rfc="EKU9003173C9", nombre="ESCUELA KEMPER URGATE"))
    padron.register(Contribuyente(rfc="URE180429TM6", nombre="UNIVERSIDAD ROBOTICA ESPAÑOLA"))
    st = Certifier(pac=pac, trust=trust, clock=clock, padron=padron)
    got = st.validate(make_xml(emisor(Nombre="ESCUELA KEMPER"))).findings
    assert [(f.code, f.node, f.value, f.expected) for f in got] == [
        ("CFDI40138", "Emisor@Nombre", "ESCUELA KEMPER", None)]
    assert "URGATE" not in got[0].detail


# -- CFDI40142: FacAtrAdquirente ---------------------------------------------------------------------------

def test_cfdi40142_fac_atr_adquirente_not_given_by_sat(make_xml, check):
    got = check(make_xml(emisor(FacAtrAdquirente="0123456789")))
    assert got == [("CFDI40142", "Emisor@FacAtrAdquirente", "0123456789", None)]


def test_cfdi40142_fac_atr_adquirente_given_to_this_emisor_passes(make_xml, check, padron):
    padron.register_operacion_adquirente("0123456789", "EKU9003173C9")
    assert check(make_xml(emisor(FacAtrAdquirente="0123456789"))) == []


def test_cfdi40142_fac_atr_adquirente_given_to_another_emisor(make_xml, check, padron):
    padron.register_operacion_adquirente("0123456789", "XIA190128J61")
    assert [c for c, *_ in check(make_xml(emisor(FacAtrAdquirente="0123456789")))] == ["CFDI40142"]


# -- CFDI40143-CFDI40148, T160: the receptor ----------------------------------------------------------

DESCONOCIDO = dict(Rfc="BASJ600902KL9", Nombre="JUANITO BANANAS DE LA SIERRA", DomicilioFiscalReceptor="06000",
                   RegimenFiscalReceptor="612", UsoCFDI="G03")


def test_cfdi40143_receptor_not_in_the_list(make_xml, check):
    assert check(make_xml(receptor(**DESCONOCIDO))) == [("CFDI40143", "Receptor@Rfc", "BASJ600902KL9", None)]


def test_cfdi40143_unknown_receptor_passes_a_permissive_padron(make_xml, check, padron):
    padron.permissive = True
    assert check(make_xml(receptor(**DESCONOCIDO))) == []


def test_cfdi40143_generic_foreign_receptor_passes(make_xml, check):
    extranjero = dict(Rfc="XEXX010101000", Nombre="ACME INC", DomicilioFiscalReceptor="06000",
                      ResidenciaFiscal="USA", NumRegIdTrib="123456789", RegimenFiscalReceptor="616", UsoCFDI="S01")
    assert check(make_xml(receptor(**extranjero))) == []


def test_cfdi40144_receptor_nombre_not_in_the_list(make_xml, check):
    got = check(make_xml(receptor(Nombre="UNIVERSIDAD ROBOTICA ESPAÑOLA SA DE CV")))
    assert got == [("CFDI40144", "Receptor@Nombre", "UNIVERSIDAD ROBOTICA ESPAÑOLA SA DE CV",
                    "UNIVERSIDAD ROBOTICA ESPAÑOLA")]


def test_cfdi40145_receptor_nombre_of_another_rfc(make_xml, check):
    got = check(make_xml(receptor(Nombre="ESCUELA KEMPER URGATE")))
    assert got == [("CFDI40145", "Receptor@Nombre", "ESCUELA KEMPER URGATE", "UNIVERSIDAD ROBOTICA ESPAÑOLA")]


def test_cfdi40144_cfdi40145_registered_name_passes_also_for_another_test_rfc(make_xml, check):
    fisica = dict(Rfc="XOJI740919U48", Nombre="INGRID XODAR JIMENEZ", DomicilioFiscalReceptor="76028",
                  RegimenFiscalReceptor="612", UsoCFDI="D01")
    assert check(make_xml(receptor(**fisica))) == []


def test_cfdi40147_domicilio_fiscal_not_in_the_list(make_xml, check):
    got = check(make_xml(receptor(DomicilioFiscalReceptor="06000")))
    assert got == [("CFDI40147", "Receptor@DomicilioFiscalReceptor", "06000", "86991")]


def test_cfdi40148_domicilio_fiscal_of_another_rfc(make_xml, check):
    got = check(make_xml(receptor(DomicilioFiscalReceptor="42501")))  # EKU9003173C9's
    assert got == [("CFDI40148", "Receptor@DomicilioFiscalReceptor", "42501", "86991")]


def test_cfdi40147_cfdi40148_unknown_postal_code_of_a_known_rfc_is_not_checked(make_xml, check):
    hermanos = dict(Rfc="HAÑ930228SM9", Nombre="HERMANOS ANZURES ÑARVAEZ", DomicilioFiscalReceptor="06000",
                    RegimenFiscalReceptor="601", UsoCFDI="G03")
    assert check(make_xml(receptor(**hermanos))) == []


def test_t160_regimen_not_of_the_rfc(make_xml, check):
    got = check(make_xml(receptor(RegimenFiscalReceptor="626")))
    assert got == [("T160", "Receptor@RegimenFiscalReceptor", "626", "603, 601")]


def test_t160_another_regimen_of_the_rfc_passes(make_xml, check):
    assert check(make_xml(receptor(RegimenFiscalReceptor="603"))) == []


def test_receptor_checks_all_at_once(make_xml, check):
    got = check(make_xml(receptor(Nombre="UNIVERSIDAD ROBOTICA", DomicilioFiscalReceptor="42501",
                                  RegimenFiscalReceptor="626")))
    assert [c for c, *_ in got] == ["CFDI40144", "CFDI40148", "T160"]


def test_permissive_padron_still_checks_the_rfcs_it_knows(make_xml, check, padron):
    padron.permissive = True
    assert [c for c, *_ in check(make_xml(receptor(Nombre="ESCUELA KEMPER URGATE")))] == ["CFDI40145"]


# -- CFDI40154: NumRegIdTrib that is an RFC inscrito -------------------------------------------------------

EXTRANJERO_DEU = dict(Rfc="XEXX010101000", Nombre="ACME GMBH", DomicilioFiscalReceptor="06000",
                      ResidenciaFiscal="DEU", RegimenFiscalReceptor="616", UsoCFDI="S01")


def test_cfdi40154_num_reg_id_trib_is_an_rfc_inscrito(make_xml, check):
    got = check(make_xml(receptor(**EXTRANJERO_DEU, NumRegIdTrib="XIA190128J61")))
    assert got == [("CFDI40154", "Receptor@NumRegIdTrib", "XIA190128J61", None)]


def test_cfdi40154_foreign_tax_id_passes(make_xml, check):
    assert check(make_xml(receptor(**EXTRANJERO_DEU, NumRegIdTrib="DE123456789"))) == []


# -- CFDI40187, CFDI40189, CFDI40190, CFDI40192, CFDI40193: ACuentaTerceros --------------------------------

def tercero(rfc="XIA190128J61", nombre="XENON INDUSTRIAL ARTICLES", regimen="601", domicilio="76343"):
    def mutate(root):
        c = node(root, "cfdi:Conceptos/cfdi:Concepto[2]")
        t = etree.Element(q("ACuentaTerceros"), RfcACuentaTerceros=rfc, NombreACuentaTerceros=nombre,
                          RegimenFiscalACuentaTerceros=regimen, DomicilioFiscalACuentaTerceros=domicilio)
        c.find(q("Impuestos")).addnext(t)
    return mutate


def test_cfdi40187_tercero_registered_passes(make_xml, check):
    assert check(make_xml(tercero())) == []


def test_cfdi40187_tercero_not_in_lco(make_xml, check):
    got = check(make_xml(tercero(rfc="BASJ600902KL9", nombre="JUANITO BANANAS", domicilio="06000")))
    assert got == [("CFDI40187", f"{TERCERO}@RfcACuentaTerceros", "BASJ600902KL9", None)]


def test_cfdi40187_tercero_known_but_without_certificate(make_xml, check, padron):
    padron.register(replace(padron.lookup("XIA190128J61"), puede_facturar=False))
    assert check(make_xml(tercero())) == [("CFDI40187", f"{TERCERO}@RfcACuentaTerceros", "XIA190128J61", None)]


def test_cfdi40189_tercero_nombre_not_in_the_list(make_xml, check):
    got = check(make_xml(tercero(nombre="XENON INDUSTRIAL ARTICLES S DE CV")))
    assert got == [("CFDI40189", f"{TERCERO}@NombreACuentaTerceros", "XENON INDUSTRIAL ARTICLES S DE CV",
                    "XENON INDUSTRIAL ARTICLES")]


def test_cfdi40190_tercero_nombre_of_another_rfc(make_xml, check):
    got = check(make_xml(tercero(nombre="INGRID XODAR JIMENEZ")))
    assert got == [("CFDI40190", f"{TERCERO}@NombreACuentaTerceros", "INGRID XODAR JIMENEZ",
                    "XENON INDUSTRIAL ARTICLES")]


def test_cfdi40192_tercero_domicilio_not_in_the_list(make_xml, check):
    got = check(make_xml(tercero(domicilio="06000")))
    assert got == [("CFDI40192", f"{TERCERO}@DomicilioFiscalACuentaTerceros", "06000", "76343")]


def test_cfdi40193_tercero_domicilio_of_another_rfc(make_xml, check):
    got = check(make_xml(tercero(domicilio="76028")))  # XOJI740919U48's
    assert got == [("CFDI40193", f"{TERCERO}@DomicilioFiscalACuentaTerceros", "76028", "76343")]


def test_cfdi40187_unknown_tercero_passes_a_permissive_padron(make_xml, check, padron):
    padron.permissive = True
    assert check(make_xml(tercero(rfc="BASJ600902KL9", nombre="JUANITO BANANAS", domicilio="06000"))) == []


# -- CFDI140224 / CFDI140225: ISR withheld from a RESICO persona física -----------------------------------

@pytest.fixture(scope="module")
def csd_marca_1(sandbox_ca):
    return sandbox_ca.issue("XOJI740919U48", "INGRID XODAR JIMENEZ", not_before=ISSUED)


@pytest.fixture(scope="module")
def csd_marca_2(sandbox_ca):
    return sandbox_ca.issue("WATM640917J45", "MARIA WATEMBER TORRES", not_before=ISSUED)


def resico(retencion_isr: str | None = None, objeto_01: int | None = None, iva_retenido: bool = False):
    """Emisor in régimen 626; each concepto keeps its IVA and, with `retencion_isr`, withholds ISR at that
    rate (after withholding IVA, with `iva_retenido`); concepto `objeto_01` becomes ObjetoImp 01 without
    taxes. Totals recomputed."""
    def mutate(root):
        node(root, "cfdi:Emisor").set("RegimenFiscal", "626")
        for n, c in enumerate(root.iterfind(f"{{{NS40}}}Conceptos/{{{NS40}}}Concepto"), start=1):
            importe = c.get("Importe")
            if n == objeto_01:
                set_taxes(c)
                c.set("ObjetoImp", "01")
                continue
            rets = [tax(importe, "001", tasa=retencion_isr)] if retencion_isr else []
            if iva_retenido:
                rets.insert(0, tax(importe, "002", tasa="0.106667"))
            set_taxes(c, [tax(importe)], rets)
        recompute(root)
    return mutate


def retencion(n: int) -> str:
    return f"Conceptos/Concepto[{n}]/Impuestos/Retenciones/Retencion[1]@Impuesto"


def test_cfdi140224_marca_1_with_isr_withheld(make_xml, check, csd_marca_1):
    got = check(make_xml(resico("0.012500"), cred=csd_marca_1))
    assert got == [("CFDI140224", retencion(n), "001", "distinto de 001 (ISR)") for n in (1, 2, 3)]


def test_cfdi140224_marca_1_without_isr_passes(make_xml, check, csd_marca_1):
    assert check(make_xml(resico(), cred=csd_marca_1)) == []


def test_cfdi140224_marca_1_with_isr_withheld_after_iva(make_xml, check, csd_marca_1):
    got = check(make_xml(resico("0.012500", iva_retenido=True), cred=csd_marca_1))
    assert got == [("CFDI140224", retencion(n).replace("Retencion[1]", "Retencion[2]"), "001", "distinto de 001 (ISR)")
                   for n in (1, 2, 3)]


def test_cfdi140225_marca_2_names_every_retencion_it_found(make_xml, check, csd_marca_2):
    got = check(make_xml(resico("0.100000", iva_retenido=True), cred=csd_marca_2))
    assert [(c, n, v) for c, n, v, _ in got] == [
        ("CFDI140225", f"Conceptos/Concepto[{n}]", "002 0.106667, 001 0.100000") for n in (1, 2, 3)]


def test_cfdi140225_marca_2_with_isr_at_1_25_after_iva_passes(make_xml, check, csd_marca_2):
    assert check(make_xml(resico("0.012500", iva_retenido=True), cred=csd_marca_2)) == []


def test_cfdi140225_marca_2_with_iva_withheld_at_1_25(make_xml, check, csd_marca_2):
    """1.25 % withheld is RESICO's only when the tax withheld is ISR."""
    def iva_al_1_25(root):
        for c in root.iterfind(f"{{{NS40}}}Conceptos/{{{NS40}}}Concepto"):
            set_taxes(c, [tax(c.get("Importe"))], [tax(c.get("Importe"), "002", tasa="0.012500")])
        recompute(root)

    got = check(make_xml(all_of(resico(), iva_al_1_25), cred=csd_marca_2))
    assert [(c, n, v) for c, n, v, _ in got] == [("CFDI140225", f"Conceptos/Concepto[{n}]", "002 0.012500")
                                                 for n in (1, 2, 3)]


def test_cfdi140224_cfdi140225_need_marca_1_or_2(make_xml, check, padron, csd_marca_2):
    padron.register(replace(padron.lookup("WATM640917J45"), retencion=0))
    assert check(make_xml(resico(), cred=csd_marca_2)) == []


def test_cfdi140224_cfdi140225_skip_an_emisor_a_permissive_padron_does_not_know(make_xml, check, sandbox_ca,
                                                                                  padron):
    """A persona física in RESICO that the (permissive) padrón does not know: nothing to check, no crash."""
    cred = sandbox_ca.issue("MOPE800101AB1", "PERSONA DESCONOCIDA", not_before=ISSUED)
    padron.permissive = True
    assert check(make_xml(resico(), cred=cred)) == []


def test_cfdi140224_cfdi140225_only_for_a_persona_fisica_emisor(make_xml, check, padron):
    padron.register(replace(padron.lookup("EKU9003173C9"), retencion=2))  # a persona moral in RESICO (626)
    assert check(make_xml(resico())) == []


def test_cfdi140225_marca_2_without_isr(make_xml, check, csd_marca_2):
    got = check(make_xml(resico(), cred=csd_marca_2))
    assert got == [("CFDI140225", f"Conceptos/Concepto[{n}]", None, "Retencion de ISR (001) con TasaOCuota 0.012500")
                   for n in (1, 2, 3)]


def test_cfdi140225_marca_2_with_another_isr_rate(make_xml, check, csd_marca_2):
    got = check(make_xml(resico("0.100000"), cred=csd_marca_2))
    assert [(c, node, value) for c, node, value, _ in got] == [
        ("CFDI140225", f"Conceptos/Concepto[{n}]", "001 0.100000") for n in (1, 2, 3)]


def test_cfdi140225_marca_2_with_isr_at_1_25_passes(make_xml, check, csd_marca_2):
    assert check(make_xml(resico("0.012500"), cred=csd_marca_2)) == []


def test_cfdi140225_concepto_that_is_not_objeto_de_impuesto_is_left_out(make_xml, check, csd_marca_2):
    got = check(make_xml(resico("0.012500", objeto_01=2), cred=csd_marca_2))
    assert got == []


def test_cfdi140224_cfdi140225_do_not_apply_to_a_persona_fisica_receptor(make_xml, check, csd_marca_2):
    fisica = receptor(Rfc="XOJI740919U48", Nombre="INGRID XODAR JIMENEZ", DomicilioFiscalReceptor="76028",
                      RegimenFiscalReceptor="612", UsoCFDI="G03")
    assert check(make_xml(all_of(resico(), fisica), cred=csd_marca_2)) == []


def test_cfdi140224_cfdi140225_apply_only_in_regimen_626(make_xml, check, csd_marca_2):
    assert check(make_xml(cred=csd_marca_2)) == []  # the sample writes 612 for a persona física


# -- CFDI40118, CFDI40127-CFDI40129: TipoCambio and Confirmacion --------------------------------------------

def en_dolares(tipo_cambio: str, confirmacion: str | None = None):
    return comprobante(Moneda="USD", TipoCambio=tipo_cambio, Confirmacion=confirmacion)


@pytest.fixture
def dolar(padron):
    """USD at 18.50 pesos for the base document's Fecha; c_Moneda allows 5%: 17.575000 .. 19.425000."""
    padron.register_tipo_cambio("USD", FECHA, Decimal("18.50"))
    return padron


def test_cfdi40118_tipo_cambio_out_of_range_without_confirmacion(make_xml, check, dolar):
    got = check(make_xml(en_dolares("20.000000")))
    assert got == [("CFDI40118", "Comprobante@TipoCambio", "20.000000", "17.575000 .. 19.425000 o Confirmacion")]


def test_cfdi40118_below_range(make_xml, check, dolar):
    assert [c for c, *_ in check(make_xml(en_dolares("17.5")))] == ["CFDI40118"]


@pytest.mark.parametrize("tc", ["18.5", "17.575", "19.425"])
def test_cfdi40118_tipo_cambio_in_range_passes(make_xml, check, dolar, tc):
    assert check(make_xml(en_dolares(tc))) == []


def test_cfdi40118_uses_the_rate_of_the_fecha(make_xml, check, padron):
    """The reference rate is the one of the Comprobante's Fecha (two days before the check here)."""
    padron.register_tipo_cambio("USD", date(2026, 11, 22), Decimal("18.50"))
    padron.register_tipo_cambio("USD", FECHA, Decimal("20.00"))
    xml = make_xml(en_dolares("20.000000"), fecha=datetime(2026, 11, 22, 18, 0, tzinfo=timezone.utc))
    assert [c for c, *_ in check(xml)] == ["CFDI40118"]


def test_cfdi40118_without_a_reference_rate_is_not_decided(make_xml, check):
    assert check(make_xml(en_dolares("99.000000"))) == []


def test_cfdi40118_out_of_range_with_a_confirmacion_given_to_the_emisor_passes(make_xml, check, dolar):
    dolar.register_confirmacion("AB123", "EKU9003173C9")
    assert check(make_xml(en_dolares("20.000000", "AB123"))) == []


def test_cfdi40127_confirmacion_with_tipo_cambio_in_range(make_xml, check, dolar):
    dolar.register_confirmacion("AB123", "EKU9003173C9")
    got = check(make_xml(en_dolares("18.500000", "AB123")))
    assert got == [("CFDI40127", "Comprobante@Confirmacion", "AB123", None)]


@pytest.mark.parametrize("tc", ["17.575000", "19.425000"])
def test_cfdi40127_confirmacion_with_tipo_cambio_at_either_limit_of_the_range(make_xml, check, dolar, tc):
    dolar.register_confirmacion("AB123", "EKU9003173C9")
    assert check(make_xml(en_dolares(tc, "AB123"))) == [("CFDI40127", "Comprobante@Confirmacion", "AB123", None)]


@pytest.mark.parametrize("tc", ["17.574999", "19.425001"])
def test_cfdi40127_confirmacion_with_tipo_cambio_just_outside_the_range_passes(make_xml, check, dolar, tc):
    dolar.register_confirmacion("AB123", "EKU9003173C9")
    assert check(make_xml(en_dolares(tc, "AB123"))) == []


def test_cfdi40118_a_tipo_cambio_off_sats_pattern_is_cfdi40117s_alone(make_xml, check, dolar):
    assert [c for c, *_ in check(make_xml(en_dolares("+20.000000")))] == ["CFDI40117"]


def test_cfdi40118_usd_without_tipo_cambio_is_cfdi40115s_alone(make_xml, check, dolar):
    assert [c for c, *_ in check(make_xml(en_dolares(None)))] == ["CFDI40115"]


def test_cfdi40127_confirmacion_in_usd_without_tipo_cambio_is_not_decided(make_xml, check, dolar):
    dolar.register_confirmacion("AB123", "EKU9003173C9")
    assert [c for c, *_ in check(make_xml(en_dolares(None, "AB123")))] == ["CFDI40115"]


def test_cfdi40128_confirmacion_not_given_by_this_pac(make_xml, check, dolar):
    got = check(make_xml(en_dolares("20.000000", "AB123")))
    assert got == [("CFDI40128", "Comprobante@Confirmacion", "AB123", None)]


def test_cfdi40128_confirmacion_given_to_another_emisor(make_xml, check, dolar):
    dolar.register_confirmacion("AB123", "XIA190128J61")
    assert [c for c, *_ in check(make_xml(en_dolares("20.000000", "AB123")))] == ["CFDI40128"]


def test_cfdi40128_unknown_emisor_in_a_permissive_padron_is_not_checked(make_xml, check, dolar, csd_desconocido):
    dolar.permissive = True
    assert check(make_xml(en_dolares("20.000000", "AB123"), cred=csd_desconocido)) == []


def test_cfdi40129_confirmacion_used_before(make_xml, check, dolar):
    dolar.register_confirmacion("AB123", "EKU9003173C9")
    dolar.usar_confirmacion("AB123")
    got = check(make_xml(en_dolares("20.000000", "AB123")))
    assert got == [("CFDI40129", "Comprobante@Confirmacion", "AB123", None)]


def test_cfdi40129_a_stamp_spends_the_confirmacion(make_xml, certifier_p, dolar):
    dolar.register_confirmacion("AB123", "EKU9003173C9")
    certifier_p.stamp(make_xml(en_dolares("20.000000", "AB123"), folio="1"))
    assert dolar.confirmacion_usada("AB123")
    with pytest.raises(TimbraError) as exc:
        certifier_p.stamp(make_xml(en_dolares("20.000000", "AB123"), folio="2"))
    assert [(f.code, f.node, f.value) for f in exc.value.findings] == [
        ("CFDI40129", "Comprobante@Confirmacion", "AB123")]


def test_cfdi40129_two_stamps_at_once_spend_it_once(make_xml, certifier_p, dolar):
    """Validation saw the key unused; another stamp spends it before this one signs."""
    dolar.register_confirmacion("AB123", "EKU9003173C9")
    checked = certifier_p.validate(make_xml(en_dolares("20.000000", "AB123")))
    assert checked.findings == []
    assert dolar.usar_confirmacion("AB123")  # the twin signs first
    with pytest.raises(TimbraError) as exc:
        certifier_p.spend_confirmacion(checked.doc)  # what the stamp path does right before signing
    assert exc.value.code == "CFDI40129"


def test_validation_alone_does_not_spend_the_confirmacion(make_xml, certifier_p, dolar):
    dolar.register_confirmacion("AB123", "EKU9003173C9")
    assert certifier_p.validate(make_xml(en_dolares("20.000000", "AB123"))).findings == []
    assert not dolar.confirmacion_usada("AB123")


# -- SAT's sample documents --------------------------------------------------------------------------------

def _sample_findings(path: Path, padron) -> list[tuple[str, str]]:
    data = path.read_bytes()
    doc = parse(data)
    now = datetime.fromisoformat(doc.get("Fecha")).replace(tzinfo=timezone.utc)
    ctx = Context(doc=doc, catalogs=catalogs(), now=now, padron=padron)
    return sorted((f.code, f.node) for f in run_rules(ctx))


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.xml")), ids=lambda p: p.name)
def test_sat_samples_a_permissive_sandbox_padron_adds_no_finding(path):
    """The samples' RFCs (AAA010101AAA, BASJ600902KL9) are not SAT's test RFCs: a permissive padrón skips
    them, so the findings are those of the rules without a padrón."""
    assert _sample_findings(path, SandboxPadron(permissive=True)) == _sample_findings(path, None)


def test_sat_samples_a_strict_padron_refuses_their_unknown_rfcs():
    """cfdv40-ejemplo.xml carries every padrón-dependent attribute: unknown emisor (402), receptor (CFDI40143)
    and third party (CFDI40187), and a FacAtrAdquirente and a Confirmacion nobody gave (CFDI40142, 40128)."""
    path = SAMPLES / "cfdv40-ejemplo.xml"
    added = set(_sample_findings(path, SandboxPadron())) - set(_sample_findings(path, None))
    assert added == {("402", "Emisor@Rfc"), ("CFDI40143", "Receptor@Rfc"),
                     ("CFDI40187", f"{TERCERO}@RfcACuentaTerceros"), ("CFDI40142", "Emisor@FacAtrAdquirente"),
                     ("CFDI40128", "Comprobante@Confirmacion")}
