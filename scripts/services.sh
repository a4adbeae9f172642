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

# The portal's browser tests drive Debian's headless Chromium (Playwright's Python API, pointed at it): install
# chromium and chromium-driver when missing. They never skip: without a browser they fail and say why.
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
    if command -v apt-get >/dev/null 2>&1; then
        echo "Chromium: installing Debian's chromium for the portal's browser tests..."
        log=$(mktemp)
        if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
                chromium chromium-driver; } >"$log" 2>&1; then
            tail -20 "$log" >&2
        fi
        rm -f "$log"
    fi
fi
if command -v chromium >/dev/null 2>&1; then
    echo "Chromium: $(chromium --version 2>/dev/null | head -1)"
else
    echo "Chromium: not installed and could not be installed; the portal's browser tests will fail" >&2
fi
