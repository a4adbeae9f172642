"""Trust anchors: the certificate authorities whose CSDs timbra accepts.

Production trusts SAT's production CAs; the sandbox also trusts SAT's test CAs (the public test CSDs are
issued by them) and timbra's own sandbox CA.
"""
from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from timbra.cfdi.credentials import Certificate
from timbra.sat.certs import sat_production_cas, sat_test_cas


class TrustStore:
    """CAs indexed by subject; `issuer_of` proves the signature, not just the name."""

    def __init__(self, cas: list[x509.Certificate] | tuple[x509.Certificate, ...]) -> None:
        self.cas = list(cas)
        self._by_subject: dict[bytes, list[x509.Certificate]] = {}
        # der -> issuing CA (or None); a PAC sees the same few thousand CSDs all day (~45 us saved each)
        self._verified: dict[bytes, x509.Certificate | None] = {}
        for ca in self.cas:
            self._by_subject.setdefault(ca.subject.public_bytes(), []).append(ca)

    @classmethod
    def for_environment(cls, sandbox: bool, extra: list[x509.Certificate] | None = None) -> TrustStore:
        cas = list(sat_production_cas())
        if sandbox:
            cas += list(sat_test_cas())
        cas += extra or []
        return cls(cas)

    def issuer_of(self, cert: Certificate) -> x509.Certificate | None:
        try:
            return self._verified[cert.der]
        except KeyError:
            pass
        ca = self._find_issuer(cert)
        if len(self._verified) >= 50_000:
            self._verified.clear()
        self._verified[cert.der] = ca
        return ca

    def _find_issuer(self, cert: Certificate) -> x509.Certificate | None:
        try:
            candidates = self._by_subject.get(cert.x509.issuer.public_bytes(), [])
        except ValueError:
            candidates = []
        for ca in candidates or self.cas:
            try:
                cert.x509.verify_directly_issued_by(ca)
                return ca
            except (ValueError, TypeError, InvalidSignature):
                continue
        return None
