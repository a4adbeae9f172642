"""SAT's certificate authorities as published (data only): the production CAs and the test CAs that issue
SAT's public test CSDs. Which of them a PAC trusts is decided in `timbra.cfdi.trust`.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from cryptography import x509

from timbra.sat import DATA


def _load_dir(folder: Path) -> list[x509.Certificate]:
    out = []
    for f in sorted(folder.glob("*.cer")):
        data = f.read_bytes()
        cert = (x509.load_pem_x509_certificate(data) if data.startswith(b"-----")
                else x509.load_der_x509_certificate(data))
        out.append(cert)
    return out


@cache
def sat_production_cas() -> tuple[x509.Certificate, ...]:
    return tuple(_load_dir(DATA / "certs" / "sat-ca-prod"))


@cache
def sat_test_cas() -> tuple[x509.Certificate, ...]:
    return tuple(_load_dir(DATA / "certs" / "sat-ca-test"))
