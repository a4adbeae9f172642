import pytest

from timbra.cfdi.rfc import (
    FISICA,
    MORAL,
    RFC_GENERICO_EXTRANJERO,
    RFC_GENERICO_NACIONAL,
    Rfc,
    persona_de_rfc,
    well_formed,
)


@pytest.mark.parametrize("rfc, kind", [
    ("EKU9003173C9", MORAL), ("XOJI740919U48", FISICA), (RFC_GENERICO_NACIONAL, FISICA),
    (RFC_GENERICO_EXTRANJERO, FISICA), ("HAÑ930228SM9", MORAL), ("", None), (None, None), ("ABC", None),
])
def test_persona_from_length(rfc, kind):
    assert persona_de_rfc(rfc) == kind


@pytest.mark.parametrize("rfc", ["EKU9003173C9", "XOJI740919U48", "HAÑ930228SM9", "A&C010101AA1", "XAXX010101000"])
def test_well_formed(rfc):
    assert well_formed(rfc)
    assert Rfc.parse(f" {rfc.lower()} ").value == rfc


@pytest.mark.parametrize("rfc", ["EKU9013173C9", "EKU9000173C9", "EKU9001003C9X", "EKU900317-C9", "EK9003173C9", "EKU9003173C", "",
                                 "EKUU9003173C9X", "eku9003173c9\n1"])
def test_malformed_is_refused(rfc):
    assert not well_formed(rfc.strip().upper() if "\n" not in rfc else rfc)
    with pytest.raises(ValueError):
        Rfc.parse(rfc)


def test_generic_rfcs():
    assert Rfc.parse(RFC_GENERICO_NACIONAL).generico and not Rfc.parse(RFC_GENERICO_NACIONAL).extranjero
    assert Rfc.parse(RFC_GENERICO_EXTRANJERO).extranjero
    assert not Rfc.parse("EKU9003173C9").generico
    assert str(Rfc.parse("eku9003173c9")) == "EKU9003173C9"
