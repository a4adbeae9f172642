"""Verifying a received CFDI (timbra verify, POST /v1/verify): which PAC certificates timbra knows, and the
options to check with. Nothing is stored and no credit is spent."""
from __future__ import annotations

import json
from pathlib import Path

from timbra.cfdi.credentials import Certificate, CredentialError
from timbra.cfdi.validate import Options
from timbra.cfdi.verify import Verification, verify
from timbra.pac.stamping import Certifier, padron_from_settings, trust_store
from timbra.sat import DATA
from timbra.settings import Settings

# SAT's published PAC certificates (the "certificados de los PAC" SAT gives out for checking SelloSAT), one
# .cer each, if any are shipped; none are today, so a CFDI stamped by another PAC is "no verificable".
SAT_PAC_CERTS = DATA / "certs" / "pac"


def _load(path: Path) -> Certificate | None:
    try:
        return Certificate.from_bytes(path.read_bytes())
    except (OSError, CredentialError, ValueError):
        return None


def shipped_pac_certificates() -> dict[str, Certificate]:
    out: dict[str, Certificate] = {}
    if SAT_PAC_CERTS.is_dir():
        for f in sorted(SAT_PAC_CERTS.glob("*.cer")):
            cert = _load(f)
            if cert is not None:
                out[cert.no_certificado] = cert
    return out


def pac_certificates(own: Certificate | None) -> dict[str, Certificate]:
    """timbra's own PAC certificate plus SAT's published ones, by NoCertificado."""
    out = shipped_pac_certificates()
    if own is not None:
        out[own.no_certificado] = own
    return out


def own_pac_certificate(settings: Settings) -> Certificate | None:
    """The configured PAC certificate, or the sandbox one if it was created; the key is not needed (and the
    sandbox keys are not created just to verify)."""
    if settings.pac_cer is not None:
        return _load(Path(settings.pac_cer))
    manifest = settings.keys_dir / "sandbox.json"
    if settings.sandbox and manifest.exists():
        try:
            pac = json.loads(manifest.read_text(encoding="utf-8"))["pac"]
        except (ValueError, KeyError):
            return None
        return _load(settings.keys_dir / pac["cer"])
    return None


def options_from_settings(settings: Settings) -> Options:
    """The stamp path's trust anchors, padrón and limits (the instant is FechaTimbrado, set by verify)."""
    from timbra.clock import SYSTEM

    return Options(trust=trust_store(settings), now=SYSTEM.now(), stamp_window_hours=settings.stamp_window_hours,
                   future_tolerance_seconds=settings.future_tolerance_seconds, allow_cfdi33=settings.allow_cfdi33,
                   max_bytes=settings.max_document_bytes, padron=padron_from_settings(settings))


def verify_with_settings(settings: Settings) -> tuple[Options, dict[str, Certificate]]:
    return options_from_settings(settings), pac_certificates(own_pac_certificate(settings))


def verify_stamped(certifier: Certifier, data: bytes) -> Verification:
    """What the running service answers: its own trust, padrón and PAC certificate."""
    return verify(data, certifier.options(), pac_certificates(certifier.pac.certificate))
