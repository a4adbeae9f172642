"""timbra's sandbox certificate authority: it plays SAT's CA so tests and demos never expire.

It issues certificates shaped like SAT's: NoCertificado as the serial number's ASCII digits, the RFC in
x500UniqueIdentifier ("RFC / representative RFC"), the CURP in serialNumber, the sucursal in OU, and
SAT's key usages (CSD: digitalSignature + nonRepudiation; e.firma: also key agreement, data
encipherment and client/e-mail EKUs). Everything it issues is for testing and has no fiscal validity.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from timbra.cfdi.credentials import Certificate, Credential, PrivateKey, serial_from_no_certificado
from timbra.clock import SYSTEM

OID_UNIQUE_ID = ObjectIdentifier("2.5.4.45")
SANDBOX_PREFIX = "99999"


def new_no_certificado() -> str:
    """20 digits, starting 99999 so a sandbox certificate is never mistaken for one of SAT's."""
    return SANDBOX_PREFIX + f"{secrets.randbelow(10**15):015d}"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class SandboxCA:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @classmethod
    def create(cls, *, now: datetime | None = None, years: int = 30) -> SandboxCA:
        now = now or SYSTEM.now()
        key = _key()
        name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, "timbra sandbox AC (sin validez fiscal)"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "timbra sandbox"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "MX"),
        ])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(serial_from_no_certificado(new_no_certificado()))
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    def issue(
        self,
        rfc: str,
        name: str,
        *,
        sucursal: str = "",
        fiel: bool = False,
        no_certificado: str | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        representante: str = "",
        curp: str = "",
    ) -> Credential:
        """A CSD (or e.firma with fiel=True) for any RFC, valid 4 years from not_before by default."""
        not_before = not_before or SYSTEM.now() - timedelta(days=1)
        not_after = not_after or not_before + timedelta(days=365 * 4)
        key = _key()
        attrs = [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(ObjectIdentifier("2.5.4.41"), name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(OID_UNIQUE_ID, f"{rfc} / {representante}"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f" / {curp}"),
        ]
        if sucursal:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, sucursal))
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs)).issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(serial_from_no_certificado(no_certificado or new_no_certificado()))
            .not_valid_before(not_before).not_valid_after(not_after)
        )
        if fiel:
            builder = builder.add_extension(
                x509.KeyUsage(True, True, True, True, False, False, False, False, False), critical=True
            ).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
        else:
            builder = builder.add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
            )
        cert = builder.sign(self.key, hashes.SHA256())
        return Credential(Certificate.from_bytes(cert.public_bytes(serialization.Encoding.DER)), PrivateKey(key))

    # -- files ---------------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ca.cer").write_bytes(self.certificate.public_bytes(serialization.Encoding.DER))
        write_private(folder / "ca.key.pem", PrivateKey(self.key).to_pem())

    @classmethod
    def load(cls, folder: Path) -> SandboxCA:
        cert = x509.load_der_x509_certificate((folder / "ca.cer").read_bytes())
        key = serialization.load_pem_private_key((folder / "ca.key.pem").read_bytes(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return cls(cert, key)


def write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)


def save_credential(cred: Credential, folder: Path, stem: str, password: str) -> dict[str, str]:
    """Write SAT-style files: <stem>.cer (DER) and <stem>.key (DER PKCS#8 encrypted with password)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.cer").write_bytes(cred.certificate.der)
    write_private(folder / f"{stem}.key", cred.key.to_der(password))
    return {
        "rfc": cred.certificate.rfc,
        "name": cred.certificate.name,
        "no_certificado": cred.certificate.no_certificado,
        "cer": f"{stem}.cer",
        "key": f"{stem}.key",
        "password": password,
        "not_after": cred.certificate.not_after.isoformat(),
        "kind": "CSD" if cred.certificate.is_csd else "FIEL",
    }


# Demo emisores: SAT's own test RFCs (names as SAT publishes them), so demos look like SAT's examples.
DEMO_EMISORES = [
    ("EKU9003173C9", "ESCUELA KEMPER URGATE", "Sucursal 1"),
    ("XIA190128J61", "XENON INDUSTRIAL ARTICLES", ""),
    ("CACX7605101P8", "XOCHILT CASAS CHAVEZ", ""),
    ("HAÑ930228SM9", "HERMANOS ANZURES ÑARVAEZ", ""),
]


def create_sandbox_keys(folder: Path, *, pac_rfc: str, password: str = "12345678a",
                        force: bool = False, now: datetime | None = None) -> dict:
    """Create (or keep) the sandbox CA, the PAC stamping certificate and demo CSDs in `folder`, valid from
    the day before `now` (default: the real clock; a benchmark on another clock gives its own)."""
    manifest_path = folder / "sandbox.json"
    if manifest_path.exists() and not force:
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    ca = SandboxCA.create(now=now)
    ca.save(folder)
    not_before = now - timedelta(days=1) if now is not None else None
    pac = ca.issue(pac_rfc, "timbra sandbox PAC", sucursal="timbrado", not_before=not_before)
    manifest: dict = {
        "ca": "ca.cer",
        "pac": save_credential(pac, folder, "pac", password),
        "csd": [],
    }
    for rfc, name, sucursal in DEMO_EMISORES:
        cred = ca.issue(rfc, name, sucursal=sucursal, not_before=not_before)
        entry = save_credential(cred, folder / "csd", rfc, password)
        entry["cer"], entry["key"] = f"csd/{entry['cer']}", f"csd/{entry['key']}"
        manifest["csd"].append(entry)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest
