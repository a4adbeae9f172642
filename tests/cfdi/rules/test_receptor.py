"""cfdi:Receptor rules, CFDI40143-CFDI40161 (CFDI40150, 40157 and 40160 come from claves.py)."""
from lxml import etree

from tests.xmlhelp import NSMAP, node, q, set_attrs
from timbra.cfdi.document import NS40

NS_CCE20 = "http://www.sat.gob.mx/ComercioExterior20"
MINE = {f"CFDI40{n}" for n in range(138, 162)}

# The base document's receptor is URE180429TM6 (persona moral, 601, G03) and LugarExpedicion is 06000.
PUBLICO = {"Rfc": "XAXX010101000", "Nombre": "PUBLICO EN GENERAL", "DomicilioFiscalReceptor": "06000",
           "RegimenFiscalReceptor": "616", "UsoCFDI": "S01"}
EXTRANJERO = {"Rfc": "XEXX010101000", "Nombre": "ACME INC", "DomicilioFiscalReceptor": "06000",
              "ResidenciaFiscal": "USA", "NumRegIdTrib": "123456789", "RegimenFiscalReceptor": "616",
              "UsoCFDI": "S01"}
FISICA = {"Rfc": "XOJI740919U48", "Nombre": "INGRID XODAR JIMENEZ", "DomicilioFiscalReceptor": "88000",
          "RegimenFiscalReceptor": "612", "UsoCFDI": "D01"}


def receptor(base=None, *, cce=False, **attrs):
    """A mutate function: the Receptor's attributes become `base` updated with `attrs` (None removes one).
    A público-en-general receptor gets the InformacionGlobal an Ingreso then needs (CFDI40130); `cce`
    adds a minimal Comercio Exterior 2.0 complement."""
    values = dict(base or {})
    values.update(attrs)

    def mutate(root):
        rec = node(root, "cfdi:Receptor")
        if base is not None:
            for k in list(rec.attrib):
                del rec.attrib[k]
        set_attrs(rec, **values)
        if rec.get("Rfc") == "XAXX010101000" and rec.get("Nombre") == "PUBLICO EN GENERAL":
            ig = etree.Element(f"{{{NS40}}}InformacionGlobal")
            set_attrs(ig, Periodicidad="01", Meses="11", Año="2026")
            root.insert(0, ig)
        if cce:
            root.set("Exportacion", "02")
            comp = etree.SubElement(root, f"{{{NS40}}}Complemento")
            ce = etree.SubElement(comp, f"{{{NS_CCE20}}}ComercioExterior", nsmap={"cce20": NS_CCE20})
            set_attrs(ce, Version="2.0", ClaveDePedimento="A1", CertificadoOrigen="0", TipoCambioUSD="20.00",
                      TotalUSD="100.00")
            m = etree.SubElement(etree.SubElement(ce, f"{{{NS_CCE20}}}Mercancias"), f"{{{NS_CCE20}}}Mercancia")
            m.set("NoIdentificacion", "SKU-00001")
            m.set("ValorDolares", "100.00")

    return mutate


def mine(findings_):
    """(code, node) of this module's codes only: other modules' rules (InformacionGlobal, Comercio
    Exterior) may also look at these documents."""
    return [(f.code, f.node) for f in findings_ if f.code in MINE]


def test_helper_builds_the_receptor_it_is_asked_for(make_xml):
    root = etree.fromstring(make_xml(receptor(EXTRANJERO, NumRegIdTrib=None), seal=False))
    rec = root.find("cfdi:Receptor", NSMAP)
    assert dict(rec.attrib) == {k: v for k, v in EXTRANJERO.items() if k != "NumRegIdTrib"}


def test_publico_en_general_and_extranjero_pass(make_xml, findings):
    assert mine(findings(make_xml(receptor(PUBLICO)))) == []
    assert findings(make_xml(receptor(EXTRANJERO))) == []
    assert findings(make_xml(receptor(FISICA))) == []


# -- CFDI40146: Nombre "PUBLICO EN GENERAL" needs Rfc XAXX010101000 -----------------------------------------

def test_cfdi40146_publico_en_general_with_a_registered_rfc(make_xml, findings):
    got = findings(make_xml(receptor(Nombre="PUBLICO EN GENERAL")))
    assert [(f.code, f.node, f.value, f.expected) for f in got] == [
        ("CFDI40146", "Receptor@Rfc", "URE180429TM6", "XAXX010101000")]


def test_cfdi40146_publico_en_general_with_the_foreign_generic_rfc(make_xml, findings):
    got = findings(make_xml(receptor(EXTRANJERO, Nombre="PUBLICO EN GENERAL")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40146", "Receptor@Rfc", "XEXX010101000")]


def test_cfdi40146_other_names_pass_with_any_rfc(make_xml, codes):
    assert codes(make_xml(receptor(Nombre="PUBLICO EN GENERAL SA"))) == []
    assert codes(make_xml(receptor(Nombre="VENTAS AL PUBLICO EN GENERAL"))) == []


# -- CFDI40149: generic RFC -> DomicilioFiscalReceptor == LugarExpedicion --------------------------------

def test_cfdi40149_publico_en_general_domicilio_differs_from_lugar_expedicion(make_xml, findings):
    got = [f for f in findings(make_xml(receptor(PUBLICO, DomicilioFiscalReceptor="06001"))) if f.code in MINE]
    assert [(f.code, f.node, f.value, f.expected) for f in got] == [
        ("CFDI40149", "Receptor@DomicilioFiscalReceptor", "06001", "06000")]


def test_cfdi40149_extranjero_domicilio_differs_from_lugar_expedicion(make_xml, findings):
    got = findings(make_xml(receptor(EXTRANJERO, DomicilioFiscalReceptor="86991")))
    assert [(f.code, f.node, f.value, f.expected) for f in got] == [
        ("CFDI40149", "Receptor@DomicilioFiscalReceptor", "86991", "06000")]


def test_cfdi40149_follows_lugar_expedicion(make_xml, codes):
    # Issued in Tijuana: the generic receptor's domicilio must be 22000 there, not 06000.
    assert codes(make_xml(receptor(EXTRANJERO, DomicilioFiscalReceptor="22000"), lugar_expedicion="22000")) == []
    assert codes(make_xml(receptor(EXTRANJERO), lugar_expedicion="22000")) == ["CFDI40149"]


def test_cfdi40149_registered_rfc_may_have_another_domicilio(make_xml, codes):
    assert codes(make_xml()) == []  # URE180429TM6 at 86991, LugarExpedicion 06000


# -- CFDI40150: ResidenciaFiscal in c_Pais (claves.py) ----------------------------------------------------

def test_cfdi40150_residencia_fiscal_not_in_c_pais(make_xml, findings):
    got = findings(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="USX")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40150", "Receptor@ResidenciaFiscal", "USX")]


def test_cfdi40150_another_country_passes(make_xml, codes):
    assert codes(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="ZWE", NumRegIdTrib="ZW-123"))) == []


# -- CFDI40151: no ResidenciaFiscal with a registered or the generic national RFC ------------------------

def test_cfdi40151_residencia_fiscal_with_a_registered_rfc(make_xml, findings):
    got = findings(make_xml(receptor(ResidenciaFiscal="USA")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40151", "Receptor@ResidenciaFiscal", "USA")]


def test_cfdi40151_residencia_fiscal_with_the_national_generic_rfc(make_xml, findings):
    got = mine(findings(make_xml(receptor(PUBLICO, ResidenciaFiscal="USA"))))
    assert got == [("CFDI40151", "Receptor@ResidenciaFiscal")]


def test_cfdi40151_residencia_fiscal_with_the_foreign_generic_rfc_passes(make_xml, codes):
    assert codes(make_xml(receptor(EXTRANJERO, NumRegIdTrib=None))) == []


# -- CFDI40152: ResidenciaFiscal cannot be MEX ---------------------------------------------------------------

def test_cfdi40152_residencia_fiscal_mex(make_xml, findings):
    got = findings(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="MEX", NumRegIdTrib=None)))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40152", "Receptor@ResidenciaFiscal", "MEX")]


def test_cfdi40152_neighbour_countries_pass(make_xml, codes):
    assert codes(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="GTM", NumRegIdTrib=None))) == []
    assert codes(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="CAN"))) == []


# -- CFDI40153: ResidenciaFiscal required with NumRegIdTrib or (XEXX and Comercio Exterior) ------------------

def test_cfdi40153_num_reg_id_trib_without_residencia_fiscal(make_xml, findings):
    got = findings(make_xml(receptor(EXTRANJERO, ResidenciaFiscal=None)))
    assert [(f.code, f.node) for f in got] == [("CFDI40153", "Receptor@ResidenciaFiscal")]
    assert "NumRegIdTrib" in got[0].detail


def test_cfdi40153_comercio_exterior_without_residencia_fiscal(make_xml, findings):
    got = mine(findings(make_xml(receptor(EXTRANJERO, ResidenciaFiscal=None, cce=True))))
    assert got == [("CFDI40153", "Receptor@ResidenciaFiscal")]


def test_cfdi40153_foreign_receptor_without_either_may_omit_residencia_fiscal(make_xml, codes):
    assert codes(make_xml(receptor(EXTRANJERO, ResidenciaFiscal=None, NumRegIdTrib=None))) == []


def test_cfdi40153_comercio_exterior_with_residencia_fiscal_passes(make_xml, findings):
    assert mine(findings(make_xml(receptor(EXTRANJERO, cce=True)))) == []


# -- CFDI40154: no NumRegIdTrib with the national generic RFC ------------------------------------------------

def test_cfdi40154_num_reg_id_trib_with_the_national_generic_rfc(make_xml, findings):
    got = mine(findings(make_xml(receptor(PUBLICO, NumRegIdTrib="123456789"))))
    assert got == [("CFDI40154", "Receptor@NumRegIdTrib")]


def test_cfdi40154_num_reg_id_trib_is_the_national_generic_rfc(make_xml, findings):
    got = findings(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="DEU", NumRegIdTrib="XAXX010101000")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40154", "Receptor@NumRegIdTrib", "XAXX010101000")]


def test_cfdi40154_num_reg_id_trib_with_the_foreign_generic_rfc_passes(make_xml, codes):
    assert codes(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="DEU", NumRegIdTrib="XEXX010101000"))) == []


# -- CFDI40155: NumRegIdTrib with Comercio Exterior, only with XEXX010101000 ---------------------------------

def test_cfdi40155_comercio_exterior_without_num_reg_id_trib(make_xml, findings):
    got = mine(findings(make_xml(receptor(EXTRANJERO, NumRegIdTrib=None, cce=True))))
    assert got == [("CFDI40155", "Receptor@NumRegIdTrib")]


def test_cfdi40155_num_reg_id_trib_with_a_registered_rfc(make_xml, findings):
    got = findings(make_xml(receptor(NumRegIdTrib="123456789")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40155", "Receptor@NumRegIdTrib", "123456789")]


def test_cfdi40155_comercio_exterior_with_num_reg_id_trib_passes(make_xml, findings):
    assert mine(findings(make_xml(receptor(EXTRANJERO, cce=True)))) == []


def test_cfdi40155_num_reg_id_trib_without_comercio_exterior_passes(make_xml, codes):
    # A foreign receptor of services (no Comercio Exterior) may carry its tax id: Anexo 20 requires it only
    # with the complement.
    assert codes(make_xml(receptor(EXTRANJERO))) == []


# -- CFDI40156: NumRegIdTrib follows c_Pais's pattern for the ResidenciaFiscal -------------------------------

def test_cfdi40156_usa_tax_id_one_digit_short(make_xml, findings):
    got = findings(make_xml(receptor(EXTRANJERO, NumRegIdTrib="12345678")))
    assert [(f.code, f.node, f.value, f.expected) for f in got] == [
        ("CFDI40156", "Receptor@NumRegIdTrib", "12345678", "[0-9]{9}")]


def test_cfdi40156_usa_tax_id_must_match_whole(make_xml, codes):
    assert codes(make_xml(receptor(EXTRANJERO, NumRegIdTrib="1234567890"))) == ["CFDI40156"]
    assert codes(make_xml(receptor(EXTRANJERO, NumRegIdTrib="12-3456789"))) == ["CFDI40156"]


def test_cfdi40156_canada_tax_id(make_xml, codes):
    assert codes(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="CAN", NumRegIdTrib="987654321"))) == []
    assert codes(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="CAN", NumRegIdTrib="98765432A"))) == ["CFDI40156"]


def test_cfdi40156_country_without_pattern_accepts_any_tax_id(make_xml, codes):
    assert codes(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="DEU", NumRegIdTrib="DE 123-456/A"))) == []


def test_cfdi40156_mex_pattern_is_the_rfc_one(make_xml, findings):
    # ResidenciaFiscal MEX is wrong anyway (CFDI40152), but its c_Pais pattern (an RFC) still applies.
    got = findings(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="MEX")))
    assert [f.code for f in got] == ["CFDI40152", "CFDI40156"]
    assert "\n" not in got[1].expected and got[1].expected.endswith("[0-9A]")
    assert [f.code for f in findings(make_xml(receptor(EXTRANJERO, ResidenciaFiscal="MEX",
                                                       NumRegIdTrib="URE180429TM6")))] == ["CFDI40152"]


# -- CFDI40157: RegimenFiscalReceptor in c_RegimenFiscal (claves.py) ---------------------------------------

def test_cfdi40157_regimen_fiscal_receptor_not_in_catalog(make_xml, findings):
    got = findings(make_xml(receptor(RegimenFiscalReceptor="627")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40157", "Receptor@RegimenFiscalReceptor", "627")]


def test_cfdi40157_regimen_fiscal_receptor_in_catalog_passes(make_xml, codes):
    assert codes(make_xml(receptor(RegimenFiscalReceptor="626"))) == []


# -- CFDI40158: RegimenFiscalReceptor vs the receptor's kind of person ----------------------------------------

def test_cfdi40158_regimen_de_persona_fisica_con_rfc_moral(make_xml, findings):
    got = findings(make_xml(receptor(RegimenFiscalReceptor="612")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40158", "Receptor@RegimenFiscalReceptor", "612")]
    assert "601" in got[0].expected.split(", ")


def test_cfdi40158_regimen_de_persona_moral_con_rfc_fisica(make_xml, findings):
    got = findings(make_xml(receptor(FISICA, RegimenFiscalReceptor="601", UsoCFDI="G03")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40158", "Receptor@RegimenFiscalReceptor", "601")]
    assert "612" in got[0].expected.split(", ") and "601" not in got[0].expected.split(", ")


def test_cfdi40158_regimenes_for_both_persons_pass(make_xml, codes):
    assert codes(make_xml(receptor(FISICA, RegimenFiscalReceptor="626", UsoCFDI="G03"))) == []
    assert codes(make_xml(receptor(RegimenFiscalReceptor="626"))) == []


# -- CFDI40159: the generic RFCs take RegimenFiscalReceptor 616 ------------------------------------------------

def test_cfdi40159_publico_en_general_with_another_regimen(make_xml, findings):
    # 612 applies to a persona física (the generic RFCs have 13 characters), so only CFDI40159 fails; S01
    # applies to 612.
    got = [f for f in findings(make_xml(receptor(PUBLICO, RegimenFiscalReceptor="612"))) if f.code in MINE]
    assert [(f.code, f.node, f.value, f.expected) for f in got] == [
        ("CFDI40159", "Receptor@RegimenFiscalReceptor", "612", "616")]


def test_cfdi40159_extranjero_with_another_regimen(make_xml, codes):
    assert codes(make_xml(receptor(EXTRANJERO, RegimenFiscalReceptor="610"))) == ["CFDI40159"]


def test_cfdi40159_registered_rfc_may_use_616(make_xml, codes):
    # Only the generic RFCs are tied to 616 here; the rest needs SAT's padrón.
    assert codes(make_xml(receptor(FISICA, RegimenFiscalReceptor="616", UsoCFDI="S01"))) == []


# -- CFDI40160: UsoCFDI in c_UsoCFDI (claves.py) ------------------------------------------------------------

def test_cfdi40160_uso_cfdi_not_in_catalog(make_xml, findings):
    got = findings(make_xml(receptor(UsoCFDI="G04")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40160", "Receptor@UsoCFDI", "G04")]


def test_cfdi40160_p01_was_removed_in_cfdi40(make_xml, findings):
    """catCFDI.xsd still lists CFDI 3.3's P01; CFDI 4.0's c_UsoCFDI does not."""
    got = findings(make_xml(receptor(UsoCFDI="P01")))
    assert [(f.code, f.value) for f in got] == [("CFDI40160", "P01")]


def test_cfdi40160_uso_cfdi_in_catalog_passes(make_xml, codes):
    assert codes(make_xml(receptor(UsoCFDI="I08"))) == []


# -- CFDI40161: UsoCFDI vs kind of person and RegimenFiscalReceptor -------------------------------------------

def test_cfdi40161_uso_de_persona_fisica_con_rfc_moral(make_xml, findings):
    got = findings(make_xml(receptor(UsoCFDI="D01")))  # URE180429TM6 is a persona moral (601)
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40161", "Receptor@UsoCFDI", "D01")]
    assert "morales" in got[0].detail
    assert "G03" in got[0].expected.split(", ") and "D01" not in got[0].expected.split(", ")


def test_cfdi40161_expected_usos_fit_both_the_person_and_the_regimen(make_xml, findings):
    # A persona moral with a régimen of personas físicas (CFDI40158 says so): the usos offered are those of
    # morales with 612 in their list, not D01 (612 is in its list, but D01 is for personas físicas only).
    got = [f for f in findings(make_xml(receptor(RegimenFiscalReceptor="612", UsoCFDI="D01"))) if f.code == "CFDI40161"]
    assert len(got) == 1 and got[0].expected
    usos = got[0].expected.split(", ")
    assert "G03" in usos and "D01" not in usos


def test_cfdi40161_expected_usos_with_an_unknown_regimen_fit_the_person(make_xml, findings):
    got = [f for f in findings(make_xml(receptor(RegimenFiscalReceptor="627", UsoCFDI="D01"))) if f.code == "CFDI40161"]
    assert len(got) == 1 and got[0].expected
    usos = got[0].expected.split(", ")
    assert "G03" in usos and "D01" not in usos


def test_cfdi40161_uso_not_for_the_regimen(make_xml, findings):
    # G03 applies to personas físicas, but its list of receptor régimenes lacks 605 (Sueldos y Salarios).
    got = findings(make_xml(receptor(FISICA, RegimenFiscalReceptor="605", UsoCFDI="G03")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40161", "Receptor@UsoCFDI", "G03")]
    assert "605" in got[0].detail
    assert got[0].expected.split(", ")[:2] == ["D01", "D02"] and "CN01" in got[0].expected


def test_cfdi40161_publico_en_general_must_use_a_uso_for_616(make_xml, findings):
    got = mine(findings(make_xml(receptor(PUBLICO, UsoCFDI="G03"))))
    assert got == [("CFDI40161", "Receptor@UsoCFDI")]
    assert mine(findings(make_xml(receptor(PUBLICO, UsoCFDI="CP01")))) == []


def test_cfdi40161_uso_valid_for_person_and_regimen_passes(make_xml, codes):
    assert codes(make_xml(receptor(FISICA, RegimenFiscalReceptor="605", UsoCFDI="D10"))) == []
    assert codes(make_xml(receptor(FISICA, RegimenFiscalReceptor="605", UsoCFDI="CN01"))) == []
    assert codes(make_xml(receptor(UsoCFDI="G01"))) == []


def test_cfdi40161_not_doubled_when_the_regimen_is_unknown(make_xml, codes):
    # An unknown régimen is CFDI40157 alone: the régimen half of CFDI40161 does not repeat it.
    assert codes(make_xml(receptor(RegimenFiscalReceptor="627"))) == ["CFDI40157"]


def test_cfdi40159_nomina_leaves_only_the_generic_national_rfc_to_nom11(make_xml):
    """With a Nómina, XAXX010101000 is NOM11's to judge (605); XEXX010101000 still needs 616 here."""
    from tests.conftest import NOW
    from timbra.cfdi.document import parse
    from timbra.cfdi.rules import Context
    from timbra.cfdi.rules.receptor import regimen_fiscal_receptor_generico
    from timbra.sat.catalogs import catalogs

    def with_nomina(base):
        def mutate(r):
            receptor(base, RegimenFiscalReceptor="605")(r)
            comp = r.find(q("Complemento"))
            if comp is None:
                comp = etree.SubElement(r, q("Complemento"))
            etree.SubElement(comp, "{http://www.sat.gob.mx/nomina12}Nomina", Version="1.2")
        return mutate

    def found(base):
        ctx = Context(doc=parse(make_xml(with_nomina(base))), catalogs=catalogs(), now=NOW)
        regimen_fiscal_receptor_generico(ctx)
        return [(f.code, f.value) for f in ctx.findings]

    assert found(PUBLICO) == []
    assert found(EXTRANJERO) == [("CFDI40159", "605")]


def test_cfdi40155_comercio_exterior_asks_num_reg_id_trib_only_of_the_generic_foreign_rfc(make_xml, codes):
    assert "CFDI40155" not in codes(make_xml(receptor(cce=True)))  # a Mexican receptor: no NumRegIdTrib
    assert "CFDI40155" in codes(make_xml(receptor(EXTRANJERO, NumRegIdTrib=None, cce=True)))
