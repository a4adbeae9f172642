"""What every answer to hostile input must be: a coded error (timbra.codes) with a Spanish and an English
message, never T900, never a traceback, never libxml2's own words, never a file's content."""
from __future__ import annotations

import json

from timbra.cfdi.xmlerrors import LIBXML2_PHRASES
from timbra.codes import CANCELLATION_CODES, CODES
from timbra.errors import TimbraError

# What /etc/passwd and /etc/hostname hold; an XXE that worked would echo them.
LEAKS = ("root:x:0:0", "/bin/bash", "/usr/sbin/nologin")


def no_leak(text: str) -> None:
    for phrase in LIBXML2_PHRASES:
        assert phrase not in text, f"libxml2's own words reached the client: {phrase!r} in {text[:500]}"
    assert "Traceback" not in text and 'File "' not in text, text[:500]
    for leak in LEAKS:
        assert leak not in text, f"a file's content was echoed: {text[:500]}"


def known_code(code: str) -> bool:
    return code in CODES or code in CANCELLATION_CODES or code.startswith(("CFDI", "CRP", "NOM", "CP", "CCE"))


def assert_coded_error(exc: TimbraError) -> None:
    """A TimbraError as a client would get it: a known code other than T900, both languages."""
    assert exc.code != "T900" and known_code(exc.code), exc.as_dict()
    assert exc.message and exc.message_en, exc.as_dict()
    no_leak(json.dumps(exc.as_dict(), ensure_ascii=False))


def assert_coded_json(r, *, ok: tuple[int, ...] = ()) -> dict:
    """A REST answer: a success in `ok`, or a 4xx/503 JSON body with a known code and es/en messages."""
    no_leak(r.text)
    if r.status_code in ok:
        return r.json() if "json" in r.headers.get("content-type", "") else {}
    assert r.status_code < 500 or r.status_code == 503, (r.status_code, r.text[:500])
    body = r.json()
    assert body["code"] != "T900" and known_code(body["code"]), body
    assert body["message"] and body.get("message_en"), body
    for f in body.get("findings", []):
        assert f["code"] and f["message"], f
    return body


def assert_soap_answer(r) -> None:
    """A SOAP answer: the operation's own result, or a Fault with timbra's code (never T900)."""
    no_leak(r.text)
    assert "T900" not in r.text, r.text[:500]
    assert r.headers.get("content-type", "").startswith(("text/xml", "application/soap+xml")), r.headers
    if r.status_code == 500:  # SOAP 1.1/1.2 send a Fault with HTTP 500; it must carry timbra's code
        assert "<code>T" in r.text or "<code>" in r.text, r.text[:500]
        assert " / " in r.text, r.text[:500]  # "T2xx: español / English"
    else:
        assert r.status_code == 200, (r.status_code, r.text[:500])


def assert_page(r) -> None:
    """A portal page: never a server error."""
    no_leak(r.text)
    assert r.status_code < 500 or r.status_code == 503, (r.status_code, r.text[:500])
    assert "T900" not in r.text, r.text[:500]
