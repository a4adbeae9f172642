"""timbra.sat.padron: the sandbox's copy of SAT's test RFCs, registrations, Confirmacion keys and exchange
rates, and how settings choose the padrón."""
from __future__ import annotations

import csv
import json
import re
import threading
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from timbra.gateway.sandbox_ca import DEMO_EMISORES
from timbra.pac.stamping import padron_from_settings
from timbra.sat.catalogs import catalogs
from timbra.sat.padron import Contribuyente, MemoryPadron, SandboxPadron, sandbox_contribuyentes
from timbra.settings import Settings

DATA = Path(__file__).resolve().parent.parent / "data"


# -- SAT's test RFCs ---------------------------------------------------------------------------------------

def test_sandbox_knows_sats_current_test_csd():
    eku = SandboxPadron().lookup("EKU9003173C9")
    assert eku == Contribuyente(rfc="EKU9003173C9", nombre="ESCUELA KEMPER URGATE", codigo_postal="42501",
                                regimenes=("601",), puede_facturar=True, retencion=0)


def test_sandbox_lookup_ignores_case_and_surrounding_spaces_and_knows_rfcs_with_enie_and_ampersand():
    p = SandboxPadron()
    assert p.lookup(" eku9003173c9 ").rfc == "EKU9003173C9"
    assert p.lookup("HAÑ930228SM9").nombre == "HERMANOS ANZURES ÑARVAEZ"
    assert p.lookup("H&E951128469").nombre == "HERRERIA & ELECTRICOS"
    assert p.lookup("AAA010101AAA") is None  # SAT's older test RFC, not in SAT's current list


def test_sandbox_retention_marks_are_sats():
    marks = {c.rfc: c.retencion for c in sandbox_contribuyentes() if c.retencion}
    assert marks == {"WATM640917J45": 2, "XOJI740919U48": 1, "IVD920810GU2": 1, "JES900109Q90": 2}


def test_sandbox_data_uses_sats_catalogs():
    cats = catalogs()
    regimenes = cats.cfdi("c_RegimenFiscal")
    for c in sandbox_contribuyentes():
        assert c.regimenes and set(c.regimenes) <= regimenes, c
        assert c.codigo_postal is None or cats.codigo_postal(c.codigo_postal) is not None, c
        assert len(c.rfc) in (12, 13) and c.puede_facturar


def test_sandbox_names_are_the_certificates_without_the_regimen_de_capital():
    """CFDI 4.0 names carry no régimen de capital: each name is the start of its test certificate's name."""
    with (DATA / "csd" / "index.tsv").open(encoding="utf-8") as f:
        certs = {row["rfc"]: row["name"] for row in csv.DictReader(f, delimiter="\t")}
    p = SandboxPadron()
    checked = 0
    for rfc, name in certs.items():
        c = p.lookup(rfc)
        assert c is not None, rfc
        assert name.startswith(c.nombre), (rfc, name, c.nombre)
        checked += 1
    assert checked >= 5
    assert p.lookup("EKU9003173C9").nombre + " SA DE CV" == certs["EKU9003173C9"]


def test_sandbox_knows_the_demo_emisores_by_the_names_of_their_certificates():
    p = SandboxPadron()
    for rfc, name, _ in DEMO_EMISORES:
        assert p.lookup(rfc).nombre == name


def test_names_and_postal_codes_in_the_list():
    p = SandboxPadron()
    assert p.nombre_inscrito("UNIVERSIDAD ROBOTICA ESPAÑOLA")
    assert p.nombre_inscrito("UNIVERSIDAD  ROBOTICA ESPAÑOLA ")  # whitespace collapses
    assert not p.nombre_inscrito("Universidad Robotica Española")  # case counts, as in SAT's list
    assert not p.nombre_inscrito("UNIVERSIDAD ROBOTICA ESPANOLA")  # so do accents
    assert p.codigo_postal_inscrito("86991") and not p.codigo_postal_inscrito("06000")


# -- registrations -----------------------------------------------------------------------------------------

def test_register_adds_an_rfc_to_this_padron_only():
    p = SandboxPadron()
    p.register(Contribuyente(rfc="ABC010101AB1", nombre="ALFA BETA", codigo_postal="06000", regimenes=("601",)))
    assert p.lookup("ABC010101AB1").nombre == "ALFA BETA"
    assert p.nombre_inscrito("ALFA BETA") and p.codigo_postal_inscrito("06000")
    assert SandboxPadron().lookup("ABC010101AB1") is None


def test_permissive_and_public_flags():
    assert SandboxPadron().permissive is False and SandboxPadron(permissive=True).permissive is True
    assert SandboxPadron().datos_publicos is True
    assert MemoryPadron().datos_publicos is False and MemoryPadron().lookup("EKU9003173C9") is None


# -- Confirmacion keys -------------------------------------------------------------------------------------

def test_confirmacion_registered_for_an_emisor():
    p = MemoryPadron()
    p.register_confirmacion("AB123", "EKU9003173C9")
    assert p.confirmacion_valida("AB123", "EKU9003173C9")
    assert not p.confirmacion_valida("AB123", "XIA190128J61")  # given to another emisor
    assert not p.confirmacion_valida("ab123", "EKU9003173C9")  # keys are case-sensitive
    p.register_confirmacion("ZZ999")
    assert p.confirmacion_valida("ZZ999", "XIA190128J61")  # given without an emisor: any


def test_emitir_confirmacion_gives_a_new_key_of_the_xsd_pattern():
    p = MemoryPadron()
    keys = {p.emitir_confirmacion("EKU9003173C9") for _ in range(50)}
    assert len(keys) == 50
    assert all(re.fullmatch(r"[0-9a-zA-Z]{5}", k) for k in keys)
    assert all(p.confirmacion_valida(k, "EKU9003173C9") for k in keys)


def test_a_confirmacion_is_spent_once_even_by_threads_at_once():
    p = MemoryPadron()
    p.register_confirmacion("AB123")
    assert not p.confirmacion_usada("AB123")
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def spend() -> None:
        barrier.wait()
        results.append(p.usar_confirmacion("AB123"))

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert p.confirmacion_usada("AB123")


def test_operacion_adquirente():
    p = MemoryPadron()
    p.register_operacion_adquirente("0123456789", "EKU9003173C9")
    assert p.operacion_adquirente_valida("0123456789", "EKU9003173C9")
    assert not p.operacion_adquirente_valida("0123456789", "XIA190128J61")
    assert not p.operacion_adquirente_valida("9999999999", "EKU9003173C9")


# -- reference exchange rates ------------------------------------------------------------------------------

def test_tipo_cambio_of_the_day_or_the_last_published_within_a_week():
    p = MemoryPadron()
    p.register_tipo_cambio("USD", date(2026, 11, 20), Decimal("18.5000"))  # a Friday
    p.register_tipo_cambio("USD", date(2026, 11, 24), Decimal("18.6000"))
    assert p.tipo_cambio("USD", date(2026, 11, 24)) == Decimal("18.6000")
    assert p.tipo_cambio("USD", date(2026, 11, 23)) == Decimal("18.5000")  # Monday: Friday's
    assert p.tipo_cambio("USD", date(2026, 11, 27)) == Decimal("18.6000")  # 3 days later: the last one
    assert p.tipo_cambio("USD", date(2026, 12, 2)) is None  # 8 days after the last one
    assert p.tipo_cambio("USD", date(2026, 11, 19)) is None  # before any
    assert p.tipo_cambio("EUR", date(2026, 11, 24)) is None


# -- settings ----------------------------------------------------------------------------------------------

def test_padron_permissive_follows_the_environment_unless_set():
    assert Settings().padron_is_permissive is True
    assert Settings(environment="production").padron_is_permissive is False
    assert Settings(padron_permissive=False).padron_is_permissive is False
    assert Settings(environment="production", padron_permissive=True).padron_is_permissive is True


@pytest.mark.parametrize("env, value", [({}, None), ({"TIMBRA_PADRON_PERMISSIVE": ""}, None),
                                        ({"TIMBRA_PADRON_PERMISSIVE": "0"}, False),
                                        ({"TIMBRA_PADRON_PERMISSIVE": "1"}, True),
                                        ({"TIMBRA_PADRON_PERMISSIVE": "no"}, False)])
def test_timbra_padron_permissive_from_the_environment(monkeypatch, env, value):
    monkeypatch.delenv("TIMBRA_PADRON_PERMISSIVE", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert Settings.from_env().padron_permissive is value


def test_padron_from_settings_in_the_sandbox_registers_the_sandbox_csds(tmp_path):
    s = Settings(data_dir=tmp_path)
    s.keys_dir.mkdir(parents=True)
    manifest = {"csd": [{"rfc": "EKU9003173C9", "name": "OTRO NOMBRE"},
                        {"rfc": "SND010101AA1", "name": "SANDBOX DEMO"}]}
    (s.keys_dir / "sandbox.json").write_text(json.dumps(manifest), encoding="utf-8")
    p = padron_from_settings(s)
    assert isinstance(p, SandboxPadron) and p.permissive
    assert p.lookup("SND010101AA1") == Contribuyente(rfc="SND010101AA1", nombre="SANDBOX DEMO")
    assert p.lookup("EKU9003173C9").nombre == "ESCUELA KEMPER URGATE"  # SAT's data is not replaced
    assert not padron_from_settings(replace(s, padron_permissive=False)).permissive


def test_padron_from_settings_in_production_knows_nobody_and_is_strict(tmp_path):
    p = padron_from_settings(Settings(environment="production", data_dir=tmp_path))
    assert not p.permissive and not p.datos_publicos
    assert p.lookup("EKU9003173C9") is None
