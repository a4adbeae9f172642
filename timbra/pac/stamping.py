"""Stamping (timbrado): validate a sealed CFDI and add the TimbreFiscalDigital signed by the PAC.

This module decides; storage, credits and delivery to SAT hook in through the `SealRegistry` (which
knows every Sello already stamped) and, in the service, the unit of work that stores the stamp.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from timbra.cfdi.credentials import Credential
from timbra.cfdi.document import Document
from timbra.cfdi.tfd import Timbre, build_tfd, insert_tfd
from timbra.cfdi.validate import Options, Validation, validate
from timbra.clock import SYSTEM, Clock
from timbra.codes import CODES, finding
from timbra.errors import Finding, TimbraError
from timbra.sat.catalogs import catalogs
from timbra.sat.certs import TrustStore
from timbra.sat.padron import Contribuyente, MemoryPadron, Padron, SandboxPadron
from timbra.settings import Settings


def sello_digest(sello: str) -> str:
    """The key under which a Sello is remembered (307: a Sello is stamped once)."""
    return hashlib.sha256("".join(sello.split()).encode("ascii", "replace")).hexdigest()


class SealRegistry(Protocol):
    def stamped_uuid(self, sello_digest: str) -> str | None:
        """The UUID already given to a document with this Sello, if any."""

    def remember(self, sello_digest: str, uuid: str) -> None:
        ...


class MemorySealRegistry:
    """For the CLI and tests; the service uses the database."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}
        self._lock = threading.Lock()

    def stamped_uuid(self, sello_digest: str) -> str | None:
        return self._seen.get(sello_digest)

    def remember(self, sello_digest: str, uuid: str) -> None:
        with self._lock:
            self._seen.setdefault(sello_digest, uuid)


@dataclass(frozen=True)
class Stamp:
    """A stamped CFDI and what a client needs from it."""

    xml: bytes
    timbre: Timbre
    doc: Document
    sello_digest: str

    @property
    def uuid(self) -> str:
        return self.timbre.uuid

    @property
    def fecha_timbrado(self) -> str:
        return self.timbre.fecha_timbrado


def validation_error(findings: list[Finding]) -> TimbraError:
    """One error for a document that cannot be stamped: the first finding's code, all findings."""
    first = findings[0]
    c = CODES.get(first.code)
    message = first.message if c is None else c.es
    return TimbraError(first.code, message, source="client", findings=findings,
                       message_en=None if c is None else c.en)


class Stamper:
    """Validates and stamps; thread-safe (RSA signing releases the GIL, so threads stamp in parallel)."""

    def __init__(self, *, pac: Credential, trust: TrustStore, clock: Clock = SYSTEM,
                 settings: Settings | None = None, registry: SealRegistry | None = None,
                 rfc_prov_certif: str | None = None, padron: Padron | None = None) -> None:
        self.pac = pac
        self.trust = trust
        self.clock = clock
        self.settings = settings or Settings()
        self.registry = registry or MemorySealRegistry()
        self.rfc_prov_certif = rfc_prov_certif or pac.certificate.rfc
        self.catalogs = catalogs()
        # SAT's lists for the padrón rules; None skips them (stamper_from_settings gives the configured one).
        self.padron = padron

    def options(self, now: datetime | None = None) -> Options:
        s = self.settings
        return Options(trust=self.trust, now=now or self.clock.now(), catalogs=self.catalogs,
                       stamp_window_hours=s.stamp_window_hours,
                       future_tolerance_seconds=s.future_tolerance_seconds,
                       allow_cfdi33=s.allow_cfdi33, max_bytes=s.max_document_bytes, padron=self.padron)

    def validate(self, data: bytes) -> Validation:
        return validate(data, self.options())

    def stamp(self, data: bytes, *, before_sign: Callable[[Document], None] | None = None,
              authorize: Callable[[Document], None] | None = None) -> Stamp:
        """Stamp a sealed CFDI or raise TimbraError with every finding.

        `authorize(doc)` runs as soon as the document is read (well-formed and in the schema), before any
        finding is reported and before looking for an earlier stamp of its Sello (307): the service uses it
        for what depends on the caller (is the Emisor's RFC in the account?), so a caller who may not stamp
        for the Emisor learns nothing about its documents. `before_sign(doc)` runs once the document is valid
        and before the PAC signs. Both raise to refuse."""
        now = self.clock.now()
        result = validate(data, self.options(now))
        doc = result.doc
        findings = list(result.findings)
        digest = None
        if doc is not None and not any(f.code == "301" for f in findings):
            if authorize is not None:
                authorize(doc)
            digest = sello_digest(doc.get("Sello") or "")
            previous = self.registry.stamped_uuid(digest)
            if previous is not None and not any(f.code == "307" for f in findings):
                findings.append(finding("307", "Comprobante@Sello", value=previous,
                                        detail=f"este Sello ya fue timbrado con el UUID {previous}"))
        if findings:
            raise validation_error(findings)
        assert doc is not None and digest is not None
        if before_sign is not None:
            before_sign(doc)
        self._spend_confirmacion(doc)
        timbre = build_tfd(sello_cfd=doc.get("Sello") or "", pac=self.pac,
                           rfc_prov_certif=self.rfc_prov_certif, moment=now)
        xml = insert_tfd(doc, timbre.xml)
        self.registry.remember(digest, timbre.uuid)
        return Stamp(xml, timbre, doc, digest)

    def _spend_confirmacion(self, doc: Document) -> None:
        """CFDI40129 when the document is signed: a Confirmacion key serves one CFDI, also when two arrive at
        once (validation saw it unused for both). Skipped where the padrón rules are skipped."""
        clave = doc.get("Confirmacion")
        padron = self.padron
        if clave is None or padron is None:
            return
        rfc = (doc.emisor.get("Rfc") if doc.emisor is not None else None) or ""
        if padron.permissive and padron.lookup(rfc) is None:
            return
        if not padron.usar_confirmacion(clave):
            raise validation_error([finding("CFDI40129", "Comprobante@Confirmacion", value=clave,
                                            detail="la clave de confirmación ya se usó en otro comprobante")])


def padron_from_settings(settings: Settings) -> Padron:
    """The sandbox: SAT's test RFCs plus the RFCs of the sandbox CSDs timbra made (keys_dir/sandbox.json).
    Production: SAT's lists are not loaded here yet, so the padrón is empty (strict, it refuses every RFC
    with 402: set TIMBRA_PADRON_PERMISSIVE=1 to stamp without them)."""
    if not settings.sandbox:
        return MemoryPadron(permissive=settings.padron_is_permissive)
    padron = SandboxPadron(permissive=settings.padron_is_permissive)
    manifest = settings.keys_dir / "sandbox.json"
    if manifest.exists():
        for csd in json.loads(manifest.read_text(encoding="utf-8")).get("csd", []):
            if padron.lookup(csd["rfc"]) is None:
                padron.register(Contribuyente(rfc=csd["rfc"], nombre=csd["name"]))
    return padron


def load_pac_credential(settings: Settings) -> Credential:
    """The PAC's stamping certificate from settings, or the sandbox one (created on first use)."""
    if settings.pac_cer is not None and settings.pac_key is not None:
        return Credential.load(Path(settings.pac_cer).read_bytes(), Path(settings.pac_key).read_bytes(),
                               settings.pac_key_password)
    if not settings.sandbox:
        raise TimbraError("T900", "TIMBRA_PAC_CER y TIMBRA_PAC_KEY son obligatorios en producción", source="pac")
    from timbra.sat.sandbox_ca import create_sandbox_keys

    manifest = create_sandbox_keys(settings.keys_dir, pac_rfc=settings.pac_rfc, password=settings.pac_key_password)
    pac = manifest["pac"]
    return Credential.load((settings.keys_dir / pac["cer"]).read_bytes(),
                           (settings.keys_dir / pac["key"]).read_bytes(), pac["password"])


def trust_store(settings: Settings) -> TrustStore:
    extra = []
    if settings.sandbox:
        from cryptography import x509

        ca = settings.keys_dir / "ca.cer"
        if ca.exists():
            extra.append(x509.load_der_x509_certificate(ca.read_bytes()))
    return TrustStore.for_environment(settings.sandbox, extra)


def stamper_from_settings(settings: Settings, *, clock: Clock = SYSTEM,
                          registry: SealRegistry | None = None) -> Stamper:
    pac = load_pac_credential(settings)
    return Stamper(pac=pac, trust=trust_store(settings), clock=clock, settings=settings, registry=registry,
                   padron=padron_from_settings(settings))
