#!/usr/bin/env bash
# Start the servers the test suite needs when they are down (PostgreSQL for the storage tests).
# The storage tests never skip PostgreSQL: if it cannot be started, they fail and say why.
set -uo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! pg_up; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        for version in $(ls /etc/postgresql); do
            pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
        done
    fi
    for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
fi
if pg_up; then
    echo "PostgreSQL: 127.0.0.1:5432 ok"
else
    echo "PostgreSQL: not reachable at 127.0.0.1:5432 and could not be started; storage tests will fail" >&2
fi
