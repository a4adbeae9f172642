"""Issue #15: a rule whose SAT data timbra's catalogs lack says what it did not check ("not evaluated"), on the
document, instead of passing it silently; with the data present it checks and says nothing more."""
from tests.cfdi.rules.complementos.cartaporte31_builder import carta_porte
from tests.cfdi.rules.complementos.test_cartaporte31 import X_U1, catalogs_with
from tests.conftest import NOW
from tests.xmlhelp import setting
from timbra.cfdi.document import parse
from timbra.cfdi.rules import Context, run_rules
from timbra.sat.catalogs import catalogs

COLONIA = setting(f"{X_U1}/cp:Domicilio", Colonia="0001")


def _skipped(xml: bytes, cats=None) -> dict[str, str]:
    ctx = Context(doc=parse(xml), catalogs=cats or catalogs(), now=NOW)
    run_rules(ctx)
    return {n.what: n.reason for n in ctx.skipped if n.what != "padrón"}


def test_a_colonia_and_the_mercancias_are_not_evaluated_without_the_sat_data(make_xml):
    skipped = _skipped(make_xml(carta_porte("T", "auto", COLONIA)))
    assert set(skipped) == {"c_Colonia", "c_ClaveProdServCP"}
    assert skipped["c_Colonia"].startswith("CP143: ") and skipped["c_ClaveProdServCP"].startswith("CP155: ")


def test_without_a_colonia_only_the_mercancias_are_not_evaluated(make_xml):
    assert set(_skipped(make_xml(carta_porte("T", "auto")))) == {"c_ClaveProdServCP"}


def test_an_invoice_without_carta_porte_has_nothing_unevaluated(make_xml):
    assert _skipped(make_xml()) == {}


def test_with_the_data_present_the_rule_is_evaluated(make_xml):
    cats = catalogs_with("ccp_31_colonias", ["colonia", "codigo_postal", "texto"], [["0001", "06000", "Centro"]])
    assert set(_skipped(make_xml(carta_porte("T", "auto", COLONIA)), cats)) == {"c_ClaveProdServCP"}
