"""The rule framework: a rule that crashes is reported as CFDI40999 and the other rules still run."""
from timbra.cfdi.rules import REGISTRY, Rule


def test_a_crashing_rule_becomes_cfdi40999_and_the_others_still_report(make_xml, findings, monkeypatch):
    def broken(ctx):
        raise ZeroDivisionError

    monkeypatch.setattr("timbra.cfdi.rules.REGISTRY", [*REGISTRY, Rule(("CFDI40999",), broken, "4.0")])
    xml = make_xml(lambda root: root.set("Exportacion", "99"))
    got = findings(xml)
    assert sorted(f.code for f in got) == ["CFDI40123", "CFDI40999"]
    crash = next(f for f in got if f.code == "CFDI40999")
    assert "broken" in crash.detail and "ZeroDivisionError" in crash.detail
