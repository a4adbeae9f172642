"""Fecha: within 72 hours before the stamp and not in the future, in LugarExpedicion's time zone (401, 403)."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from tests.conftest import NOW


def test_401_older_than_72_hours(make_xml, findings):
    got = findings(make_xml(fecha=NOW - timedelta(hours=72, minutes=1)))
    assert [(f.code, f.node) for f in got] == [("401", "Comprobante@Fecha")]
    assert "72 horas" in got[0].detail


def test_just_inside_72_hours_passes(make_xml, codes):
    assert codes(make_xml(fecha=NOW - timedelta(hours=71, minutes=59))) == []


def test_401_in_the_future(make_xml, codes):
    assert codes(make_xml(fecha=NOW + timedelta(minutes=10))) == ["401"]
    assert codes(make_xml(fecha=NOW + timedelta(seconds=60))) == []  # within the 120 s clock tolerance


def test_403_before_cfdi40_existed(make_xml, clock, codes, sandbox_ca):
    # 2021-12-31 23:59:59 in Mexico City, stamped at 2022-01-01 00:30 there: only the version start fails.
    old = datetime(2022, 1, 1, 5, 59, 59, tzinfo=timezone.utc)
    clock._at = datetime(2022, 1, 1, 6, 30, tzinfo=timezone.utc)
    cred = sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", not_before=old - timedelta(days=1))
    assert codes(make_xml(cred=cred, fecha=old)) == ["403"]
    assert codes(make_xml(cred=cred, fecha=old + timedelta(seconds=1))) == []


def test_tijuana_local_time(make_xml, codes):
    """LugarExpedicion 22000 is Tijuana (America/Tijuana, UTC-8 in November): a Fecha written in Tijuana's
    local time one minute ago is fine, although it is 2 hours "behind" Mexico City."""
    local_now = NOW.astimezone(ZoneInfo("America/Tijuana")) - timedelta(minutes=1)
    assert codes(make_xml(fecha=local_now, lugar_expedicion="22000")) == []
    # The same wall-clock time written as if it were Mexico City's, 2 hours ahead, read in Tijuana: future.
    ahead = NOW.astimezone(ZoneInfo("America/Mexico_City")).replace(tzinfo=ZoneInfo("America/Tijuana"))
    xml = make_xml(lambda r: r.set("Fecha", ahead.strftime("%Y-%m-%dT%H:%M:%S")), lugar_expedicion="22000")
    assert codes(xml) == ["401"]


def test_cancun_is_an_hour_ahead(make_xml, codes):
    local = NOW.astimezone(ZoneInfo("America/Cancun"))
    assert codes(make_xml(fecha=local, lugar_expedicion="77500")) == []
    xml = make_xml(lambda r: r.set("Fecha", (local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")),
                   lugar_expedicion="77500")
    assert codes(xml) == ["401"]


def test_local_fecha_is_as_strict_as_t_fechah():
    from timbra.cfdi.validate import local_fecha
    assert local_fecha(" 2026-11-24T10:00:00 ") == datetime(2026, 11, 24, 10, 0)
    for bad in ("2026-02-30T10:00:00", "2026-11-24T10:00:00Z", "2026-11-24T10:00:00.5", "2026-11-24 10:00:00",
                "٢٠٢٦-11-24T10:00:00", "2026-11-24", "", None):
        assert local_fecha(bad) is None, bad
