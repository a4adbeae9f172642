"""Verifying a received CFDI (timbra verify, POST /v1/verify): which PAC certificates timbra knows, and the
options to check with. Nothing is stored and no credit is spent."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from timbra.cfdi.credentials import Certificate, CredentialError
from timbra.cfdi.validate import Options
from timbra.cfdi.verify import Verification, verify
from timbra.clock import SYSTEM
from timbra.pac.stamping import Certifier, options_from_settings
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


@lru_cache(maxsize=1)
def _shipped() -> tuple[tuple[str, Certificate], ...]:
    """SAT's PAC certificates shipped with timbra, read once (package data does not change while running)."""
    out: dict[str, Certificate] = {}
    if SAT_PAC_CERTS.is_dir():
        for f in sorted(SAT_PAC_CERTS.glob("*.cer")):
            cert = _load(f)
            if cert is not None:
                out[cert.no_certificado] = cert
    return tuple(out.items())


def shipped_pac_certificates() -> dict[str, Certificate]:
    return dict(_shipped())


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


def verify_with_settings(settings: Settings) -> tuple[Options, dict[str, Certificate]]:
    """The instant is FechaTimbrado, set by verify."""
    return options_from_settings(settings, SYSTEM.now()), pac_certificates(own_pac_certificate(settings))


def verify_stamped(certifier: Certifier, data: bytes) -> Verification:
    """What the running service answers: its own trust, padrón and PAC certificate."""
    return verify(data, certifier.options(), pac_certificates(certifier.pac.certificate))
