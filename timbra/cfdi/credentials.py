"""SAT credentials: CSD / e.firma certificates and their private keys.

SAT certificates carry the RFC in the subject's x500UniqueIdentifier ("RFC / RFC of the legal
representative"), the CURP in serialNumber, the sucursal in OU, and their NoCertificado as the serial
number's bytes read as ASCII digits. Names with Ñ or accents are often stored as Latin-1 bytes inside a
PrintableString or TeletexString, which `cryptography` refuses to parse: the subject is read here with
pyasn1 as raw attribute values and decoded tolerantly (UTF-8, else Latin-1).
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID
from pyasn1.codec.der import decoder as der_decoder
from pyasn1_modules import rfc5280

OID_CN = "2.5.4.3"
OID_NAME = "2.5.4.41"
OID_O = "2.5.4.10"
OID_OU = "2.5.4.11"
OID_UNIQUE_ID = "2.5.4.45"
OID_SERIAL = "2.5.4.5"


# SAT's seal: RSA PKCS#1 v1.5 with SHA-256 (stateless objects, shared by every signature and verification).
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


class CredentialError(ValueError):
    """A certificate or key that cannot be read, or that does not match."""


def _decode_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_subject(der: bytes) -> dict[str, str]:
    """The subject attributes of a DER certificate as {oid: text}, tolerant of SAT's Latin-1 names."""
    try:
        cert, _ = der_decoder.decode(der, asn1Spec=rfc5280.Certificate())
        out: dict[str, str] = {}
        for rdn in cert["tbsCertificate"]["subject"][0]:
            for atv in rdn:
                value, _ = der_decoder.decode(bytes(atv["value"]))
                raw = value.asOctets() if hasattr(value, "asOctets") else bytes(value)
                out.setdefault(str(atv["type"]), _decode_text(raw).strip())
        return out
    except Exception as exc:  # pyasn1 raises many types; a bad subject is a bad certificate
        raise CredentialError("no se pudo leer el sujeto del certificado / the certificate's subject cannot be "
                              "read") from exc


def no_certificado_from_serial(serial: int) -> str:
    """SAT's NoCertificado: the serial number's bytes are the ASCII digits of a 20-digit number."""
    raw = serial.to_bytes((serial.bit_length() + 7) // 8 or 1, "big")
    text = raw.decode("ascii", errors="replace")
    if text.isdigit():
        return text
    return format(serial, "x")


def serial_from_no_certificado(no_certificado: str) -> int:
    return int.from_bytes(no_certificado.encode("ascii"), "big")


@dataclass(frozen=True, eq=False)
class Certificate:
    """A parsed X.509 certificate with SAT's reading of it."""

    x509: x509.Certificate
    der: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> Certificate:
        """DER (.cer), PEM, or the base64 text of a CFDI's Certificado attribute."""
        try:
            if data[:1] == b"\x30":  # DER: never strip, its last bytes may be whitespace values
                cert = x509.load_der_x509_certificate(data)
            elif data.strip().startswith(b"-----BEGIN"):
                cert = x509.load_pem_x509_certificate(data.strip())
            else:
                cert = x509.load_der_x509_certificate(base64.b64decode(b"".join(data.split()), validate=False))
        except (ValueError, binascii.Error) as exc:
            # not the parser's own text (cryptography's is a Rust ASN.1 debug dump)
            raise CredentialError("el certificado no se puede leer: no es un certificado X.509 en DER, PEM o base64 "
                                  "/ the certificate cannot be read: not an X.509 certificate in DER, PEM or "
                                  "base64") from exc
        return cls(cert, cert.public_bytes(serialization.Encoding.DER))

    @classmethod
    def from_base64(cls, text: str) -> Certificate:
        return _cert_from_base64(text)

    @cached_property
    def subject(self) -> dict[str, str]:
        return read_subject(self.der)

    @cached_property
    def no_certificado(self) -> str:
        return no_certificado_from_serial(self.x509.serial_number)

    @cached_property
    def rfc(self) -> str:
        """The holder's RFC (first part of x500UniqueIdentifier), upper case."""
        unique = self.subject.get(OID_UNIQUE_ID, "")
        return unique.split("/")[0].strip().upper()

    @cached_property
    def rfc_representante(self) -> str:
        parts = self.subject.get(OID_UNIQUE_ID, "").split("/")
        return parts[1].strip().upper() if len(parts) > 1 else ""

    @property
    def name(self) -> str:
        s = self.subject
        return s.get(OID_NAME) or s.get(OID_CN) or s.get(OID_O, "")

    @property
    def sucursal(self) -> str:
        return self.subject.get(OID_OU, "")

    @cached_property
    def not_before(self) -> datetime:
        return self.x509.not_valid_before_utc

    @cached_property
    def not_after(self) -> datetime:
        return self.x509.not_valid_after_utc

    def valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after

    @cached_property
    def is_fiel(self) -> bool:
        """An e.firma: SAT issues it with key agreement / data encipherment and client/e-mail EKUs."""
        try:
            ku = self.x509.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
            if ku.key_agreement or ku.data_encipherment:
                return True
        except x509.ExtensionNotFound:
            pass
        try:
            eku = self.x509.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
            if ExtendedKeyUsageOID.CLIENT_AUTH in eku or ExtendedKeyUsageOID.EMAIL_PROTECTION in eku:
                return True
        except x509.ExtensionNotFound:
            pass
        return False

    @cached_property
    def is_csd(self) -> bool:
        """A Certificado de Sello Digital: signing only (digitalSignature + nonRepudiation), no EKU."""
        if self.is_fiel:
            return False
        try:
            ku = self.x509.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
        except x509.ExtensionNotFound:
            return False
        return bool(ku.digital_signature and ku.content_commitment)

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        key = self._rsa_key
        if key is None:
            raise CredentialError("el certificado no contiene una llave RSA")
        return key

    @cached_property
    def _rsa_key(self) -> rsa.RSAPublicKey | None:
        """The certificate's RSA key, read once (None when it has another kind of key)."""
        key = self.x509.public_key()
        return key if isinstance(key, rsa.RSAPublicKey) else None

    @cached_property
    def base64(self) -> str:
        return base64.b64encode(self.der).decode("ascii")

    def verify(self, signature: bytes, message: bytes) -> bool:
        """RSA PKCS#1 v1.5 with SHA-256 over message (CFDI 3.3/4.0 and TFD 1.1)."""
        try:
            self.public_key.verify(signature, message, _PKCS1V15, _SHA256)
            return True
        except (InvalidSignature, CredentialError):
            return False


@lru_cache(maxsize=4096)
def _cert_from_base64(text: str) -> Certificate:
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CredentialError("el certificado no está codificado en base64") from exc
    return Certificate.from_bytes(der)


class PrivateKey:
    """An RSA private key, loaded and validated once (loading is slow: ~36 ms), then reused."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key

    @classmethod
    def from_bytes(cls, data: bytes, password: str | bytes | None) -> PrivateKey:
        """SAT's .key (DER PKCS#8, encrypted) or PEM, with its password."""
        pw = password.encode("utf-8") if isinstance(password, str) else password
        data = data.strip() if data.lstrip().startswith(b"-----") else data
        try:
            if data.startswith(b"-----BEGIN"):
                key = serialization.load_pem_private_key(data, pw or None)
            else:
                key = serialization.load_der_private_key(data, pw or None)
        except (ValueError, TypeError) as exc:
            raise CredentialError("la llave privada no se puede abrir: contraseña incorrecta o archivo dañado") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CredentialError("la llave privada no es RSA")
        return cls(key)

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message, _PKCS1V15, _SHA256)

    def matches(self, cert: Certificate) -> bool:
        return self.key.public_key().public_numbers() == cert.public_key.public_numbers()

    def to_pem(self, password: str | None = None) -> bytes:
        enc = (serialization.BestAvailableEncryption(password.encode()) if password
               else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    def to_der(self, password: str) -> bytes:
        """SAT's .key format: DER PKCS#8, encrypted with the password."""
        return self.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(password.encode()))


@dataclass(frozen=True)
class Credential:
    """A certificate with its private key: a CSD to seal CFDI, or the PAC's certificate to stamp."""

    certificate: Certificate
    key: PrivateKey

    @classmethod
    def load(cls, cer: bytes, key: bytes, password: str | bytes | None) -> Credential:
        cert = Certificate.from_bytes(cer)
        pk = PrivateKey.from_bytes(key, password)
        if not pk.matches(cert):
            raise CredentialError("la llave privada no corresponde al certificado")
        return cls(cert, pk)

    @classmethod
    def from_pfx(cls, pfx: bytes, password: str | bytes | None) -> Credential:
        pw = password.encode("utf-8") if isinstance(password, str) else password
        try:
            key, cert, _extra = pkcs12.load_key_and_certificates(pfx, pw)
        except ValueError as exc:
            raise CredentialError("el archivo .pfx no se puede abrir: contraseña incorrecta o archivo dañado") from exc
        if key is None or cert is None or not isinstance(key, rsa.RSAPrivateKey):
            raise CredentialError("el archivo .pfx no contiene certificado y llave RSA")
        c = Certificate.from_bytes(cert.public_bytes(serialization.Encoding.DER))
        pk = PrivateKey(key)
        if not pk.matches(c):
            raise CredentialError("la llave privada no corresponde al certificado")
        return cls(c, pk)

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)
