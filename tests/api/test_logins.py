"""Password logins (HTTP Basic) cannot exhaust the server: failed attempts are throttled per client address
and per username on the PAC's clock (429 T150 with Retry-After), argon2 runs at most `argon2_slots` at once,
and requests with an API key are answered while a crowd of bad logins waits. SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from starlette.testclient import TestClient

import timbra.pac.accounts as accounts_module
from tests.api.test_e2e import assert_error
from tests.api.test_rest import Api, api, data_dir, emisor_csd, timed_api  # noqa: F401 - fixtures
from timbra.pac.accounts import KEY_CACHE_SECONDS
from timbra.pac.throttle import PER_USER, WINDOW_SECONDS


class GatedHasher:
    """argon2's verify, instrumented: counts how many run at once and holds each until `release` is set."""

    def __init__(self, real) -> None:
        self.real = real
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.calls = 0

    def verify(self, hash_, password):
        with self.lock:
            self.active += 1
            self.calls += 1
            self.peak = max(self.peak, self.active)
        try:
            self.release.wait(60)
            return self.real.verify(hash_, password)
        finally:
            with self.lock:
                self.active -= 1

    def __getattr__(self, name):
        return getattr(self.real, name)


async def until(condition, what: str) -> None:
    """Waits for a state (not a time bound on the server: the deadline only ends a hung test)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never reached: {what}")


def test_api_keys_are_answered_while_bad_logins_wait(api: Api, monkeypatch):  # noqa: F811
    hasher = GatedHasher(accounts_module._hasher)
    monkeypatch.setattr(accounts_module, "_hasher", hasher)
    monkeypatch.setattr(api.pac.accounts, "argon2_wait_seconds", 60)  # none gives up while the test looks
    slots = api.pac.accounts.argon2_slots
    crowd = 3 * slots + 2  # more than the login threads (2 x slots), fewer than the queue refused at once

    async def scenario():
        transport = httpx.ASGITransport(app=api.app, client=("203.0.113.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://timbra") as c:
            bad = [asyncio.create_task(c.get("/v1/me", auth=(f"nadie{i}", "una clave equivocada")))
                   for i in range(crowd)]
            await until(lambda: hasher.active == slots, "argon2 busy on every slot")
            keyed = await c.get("/v1/credits", headers={"X-API-Key": api.demo.api_key})
            assert keyed.status_code == 200, keyed.text
            assert not any(t.done() for t in bad)  # answered while every bad login was still waiting
            assert hasher.active == slots and hasher.calls == slots  # the others wait without argon2
            hasher.release.set()
            return await asyncio.gather(*bad)

    answers = asyncio.run(scenario())
    assert [r.status_code for r in answers] == [401] * crowd
    assert {r.json()["code"] for r in answers} == {"T101"}
    assert hasher.peak == slots and hasher.calls == crowd


def test_failed_logins_are_throttled_per_username(timed_api: Api):  # noqa: F811
    api = timed_api
    user, password = api.demo.admin_username, api.demo.admin_password
    for _ in range(PER_USER):
        assert_error(api.basic(user, "una clave equivocada").get("/v1/me"), 401, "T101")
    r = api.basic(user, "otra clave equivocada").get("/v1/me")
    body = assert_error(r, 429, "T150")
    assert body["message_en"]
    retry = int(r.headers["Retry-After"])
    assert 0 < retry <= api.pac.accounts.throttle.window.total_seconds()
    assert_error(api.basic(user, password).get("/v1/me"), 429, "T150")  # even the right one, until it passes
    assert api.erp().get("/v1/me").status_code == 200  # API keys are not throttled
    api.clock.advance(seconds=retry)
    assert api.basic(user, password).get("/v1/me").status_code == 200


def test_failed_logins_are_throttled_per_client(timed_api: Api):  # noqa: F811
    api = timed_api
    api.pac.accounts.throttle.per_client = 3  # fewer argon2 runs in the test than the default allows
    for i in range(3):
        assert_error(api.basic(f"usuario{i}", "una clave equivocada").get("/v1/me"), 401, "T101")
    r = api.basic("otro", "una clave equivocada").get("/v1/me")
    assert_error(r, 429, "T150")
    assert int(r.headers["Retry-After"]) >= 1
    api.clock.advance(seconds=int(r.headers["Retry-After"]))
    assert_error(api.basic("otro", "una clave equivocada").get("/v1/me"), 401, "T101")


def test_a_remembered_password_passes_a_throttled_username(timed_api: Api):  # noqa: F811
    """An ERP that sends its user and password on every call keeps working while someone else guesses
    that username: its password was verified before and is answered from memory."""
    api = timed_api
    user, password = api.demo.admin_username, api.demo.admin_password
    assert api.basic(user, password).get("/v1/me").status_code == 200
    throttle = api.pac.accounts.throttle
    for _ in range(PER_USER):
        throttle.failed(client="198.51.100.1", username=user)
    assert api.basic(user, password).get("/v1/me").status_code == 200
    assert_error(api.basic(user, "una clave equivocada").get("/v1/me"), 429, "T150")


def test_a_remembered_password_from_another_address_waits_out_a_throttled_username(timed_api: Api):  # noqa: F811
    """While the username is throttled, the right password from an address that never signed in as it is
    refused as a wrong one is (T150): whoever guesses from elsewhere cannot tell which guess was right, from
    the memory of passwords or from the 5-second login cache. Once the window has passed it signs in."""
    api = timed_api
    user, password = api.demo.admin_username, api.demo.admin_password

    elsewhere = TestClient(api.app, client=("198.51.100.7", 4000))  # not started: the fixture's app runs
    elsewhere.auth = (user, password)

    assert api.basic(user, password).get("/v1/me").status_code == 200  # remembered, from "testclient"
    for _ in range(PER_USER):
        api.pac.accounts.throttle.failed(client="198.51.100.1", username=user)
    assert_error(elsewhere.get("/v1/me"), 429, "T150")  # the 5-second cache still holds the password
    api.clock.advance(seconds=KEY_CACHE_SECONDS + 1)
    assert_error(elsewhere.get("/v1/me"), 429, "T150")  # the memory of verified passwords does too
    assert api.basic(user, password).get("/v1/me").status_code == 200  # the ERP's own address goes on
    api.clock.advance(seconds=WINDOW_SECONDS)
    assert elsewhere.get("/v1/me").status_code == 200


@pytest.mark.parametrize("slots", [1])
def test_logins_beyond_the_queue_are_refused_at_once(api: Api, monkeypatch, slots: int):  # noqa: F811
    hasher = GatedHasher(accounts_module._hasher)
    monkeypatch.setattr(accounts_module, "_hasher", hasher)
    accounts = api.pac.accounts
    monkeypatch.setattr(accounts, "argon2_slots", slots)
    monkeypatch.setattr(accounts, "_argon2", threading.BoundedSemaphore(slots))
    monkeypatch.setattr(accounts, "argon2_wait_seconds", 60)
    queue = 8 * slots

    async def scenario():
        transport = httpx.ASGITransport(app=api.app, client=("203.0.113.8", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://timbra") as c:
            waiting = [asyncio.create_task(c.get("/v1/me", auth=(f"nadie{i}", "una clave equivocada")))
                       for i in range(2 * slots + queue)]
            await until(lambda: getattr(api.app.state, "login_limiter", None) is not None
                        and api.app.state.login_limiter.statistics().tasks_waiting == queue, "a full queue")
            extra = await c.get("/v1/me", auth=("uno-mas", "una clave equivocada"))
            hasher.release.set()
            await asyncio.gather(*waiting)
            return extra

    extra = asyncio.run(scenario())
    assert_error(extra, 503, "T151")
    assert extra.headers["Retry-After"] == "1"
