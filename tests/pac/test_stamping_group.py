"""Group commit (issue #17): stamps that reach the store while a commit runs share the next transaction and its
one commit; each caller is answered only after the commit that holds its write; a write that fails fails alone
(its savepoint), a commit that fails fails every write in it. A batch runs first without savepoints (two round
trips a write on PostgreSQL); only a batch where a write failed runs again with them."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest

from timbra.pac.stamping import GroupCommit


class FakeSession:
    def __init__(self, db: FakeDb) -> None:
        self.db = db
        self.writes: list[str] = []

    @contextmanager
    def begin_nested(self):
        self.db.savepoints += 1
        mark = len(self.writes)
        try:
            yield
        except Exception:
            del self.writes[mark:]
            raise


class FakeDb:
    """Commits take until `release` is set, so the test decides what arrives during a commit."""

    def __init__(self, fail_commit: bool = False) -> None:
        self.commits: list[list[str]] = []
        self.in_commit = threading.Event()
        self.release = threading.Event()
        self.fail_commit = fail_commit
        self.savepoints = 0
        self.sessions = 0

    @contextmanager
    def write(self):
        self.sessions += 1
        s = FakeSession(self)
        yield s
        self.in_commit.set()
        self.release.wait(5)
        if self.fail_commit:
            raise OSError("disk full")
        self.commits.append(s.writes)


def write(name: str, fail: bool = False):
    def work(s: FakeSession) -> str:
        s.writes.append(name)
        if fail:
            raise ValueError(name)
        return f"{name} ok after {len(s.db.commits)} commits"
    return work


def test_writes_that_arrive_during_a_commit_share_the_next_one():
    db = FakeDb()
    commits = GroupCommit(db)
    out: dict[str, object] = {}

    def call(name: str, fail: bool = False) -> None:
        try:
            out[name] = commits.run(write(name, fail))
        except ValueError as exc:
            out[name] = exc

    first = threading.Thread(target=call, args=("a",))
    first.start()
    assert db.in_commit.wait(5)  # "a" is committing alone
    others = [threading.Thread(target=call, args=(n, n == "c")) for n in ("b", "c", "d")]
    for t in others:
        t.start()
    while len(commits._pending) < 3:  # all three wait for the commit under way
        threading.Event().wait(0.01)
    assert out == {}  # nobody is answered before its commit
    db.release.set()
    for t in (first, *others):
        t.join(5)
    assert db.commits == [["a"], ["b", "d"]]  # one commit for the three; "c" failed alone
    assert out["a"] == "a ok after 0 commits" and out["b"] == "b ok after 1 commits" == out["b"]
    assert isinstance(out["c"], ValueError) and out["d"] == "d ok after 1 commits"
    # a's session, the batch's first attempt (rolled back by c), the batch again with a savepoint a write
    assert db.sessions == 3 and db.savepoints == 3


def batch_of(db: FakeDb, names: list[str]) -> tuple[GroupCommit, dict[str, object]]:
    """Runs "first" alone, then `names` as one batch (they arrive during its commit); the answers."""
    commits = GroupCommit(db)
    out: dict[str, object] = {}

    def call(name: str) -> None:
        try:
            out[name] = commits.run(write(name))
        except Exception as exc:  # noqa: BLE001
            out[name] = exc

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert db.in_commit.wait(5)
    others = [threading.Thread(target=call, args=(n,)) for n in names]
    for t in others:
        t.start()
    while len(commits._pending) < len(names):
        threading.Event().wait(0.01)
    db.release.set()
    for t in (first, *others):
        t.join(5)
    return commits, out


def test_a_batch_where_nothing_fails_takes_no_savepoints():
    db = FakeDb()
    _, out = batch_of(db, ["b", "c"])
    assert db.commits == [["first"], ["b", "c"]] and db.sessions == 2 and db.savepoints == 0
    assert out["b"] == "b ok after 1 commits" and out["c"] == "c ok after 1 commits"


def test_a_batch_whose_commit_fails_is_not_run_again():
    db = FakeDb(fail_commit=True)
    _, out = batch_of(db, ["b", "c"])
    assert all(isinstance(out[n], OSError) for n in ("first", "b", "c"))
    assert db.sessions == 2 and db.savepoints == 0 and db.commits == []


def test_a_failed_commit_fails_every_write_in_it():
    db = FakeDb(fail_commit=True)
    db.release.set()
    commits = GroupCommit(db)
    with pytest.raises(OSError):
        commits.run(write("a"))
    assert db.commits == [] and commits._pending == [] and not commits._busy
