"""SAT certificates read tolerantly (Ñ, &), CSD vs e.firma, keys and passwords."""
import base64
import csv
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.conftest import DATA
from timbra.cfdi.credentials import Certificate, Credential, CredentialError, PrivateKey

CSD = DATA / "csd"


def load(stem: str) -> Credential:
    return Credential.load((CSD / f"{stem}.cer").read_bytes(), (CSD / f"{stem}.key").read_bytes(), "12345678a")


def test_sat_test_csd_is_read_as_sat_does():
    cred = load("EKU9003173C9_csd_2027")
    cert = cred.certificate
    assert cert.rfc == "EKU9003173C9"
    assert cert.rfc_representante == "VADA800927DJ3"
    assert cert.name == "ESCUELA KEMPER URGATE SA DE CV"
    assert cert.sucursal == "Sucursal 1"
    assert cert.no_certificado == "30001000000500003416"
    assert cert.is_csd and not cert.is_fiel
    assert cert.not_after.date().isoformat() == "2027-05-18"


def test_sat_test_fiel_is_not_a_csd():
    cert = Certificate.from_bytes((CSD / "EKU9003173C9_fiel_2027.cer").read_bytes())
    assert cert.is_fiel and not cert.is_csd
    assert cert.no_certificado == "30001000000500003415"


def rows():
    with (CSD / "index.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.mark.parametrize("row", rows(), ids=lambda r: r["no_certificado"])
def test_names_with_enie_and_ampersand(row):
    """cryptography cannot parse these subjects (Latin-1 in PrintableString/TeletexString); timbra can."""
    cert = Certificate.from_bytes((CSD / f"{row['no_certificado']}.cer").read_bytes())
    assert cert.rfc == row["rfc"]
    assert cert.name == row["name"]
    assert cert.sucursal == row["sucursal_OU"].strip()
    assert cert.no_certificado == row["no_certificado"]
    assert cert.is_csd == (row["kind"] == "CSD")
    assert cert.is_fiel == (row["kind"] == "FIEL")


def test_cryptography_alone_fails_on_enie_subject():
    # The trap this module exists for: if this starts passing, the fallback may be simplified.
    cert = Certificate.from_bytes((CSD / "30001000000400002449.cer").read_bytes())
    with pytest.raises(ValueError):
        cert.x509.subject.rfc4514_string()
    assert cert.rfc == "IAÑL750210963"


def test_wrong_password_and_mismatched_key():
    cer = (CSD / "EKU9003173C9_csd_2027.cer").read_bytes()
    key = (CSD / "EKU9003173C9_csd_2027.key").read_bytes()
    with pytest.raises(CredentialError, match="contraseña"):
        Credential.load(cer, key, "wrong")
    other = (CSD / "30001000000400002434.key").read_bytes()
    with pytest.raises(CredentialError, match="no corresponde"):
        Credential.load(cer, other, "12345678a")


def test_garbage_certificate():
    for data in (b"", b"not a cert", b"\x30\x03\x02\x01\x01"):
        with pytest.raises(CredentialError):
            Certificate.from_bytes(data)
    with pytest.raises(CredentialError):
        Certificate.from_base64("***")


def test_pfx_round_trip():
    cred = load("EKU9003173C9_csd_2027")
    pfx = pkcs12.serialize_key_and_certificates(b"csd", cred.key.key, cred.certificate.x509, None,
                                                serialization.BestAvailableEncryption(b"secreto"))
    again = Credential.from_pfx(pfx, "secreto")
    assert again.certificate.no_certificado == "30001000000500003416"
    with pytest.raises(CredentialError):
        Credential.from_pfx(pfx, "otra")


def test_sandbox_certificates_are_shaped_like_sats(sandbox_ca):
    cred = sandbox_ca.issue("HAÑ930228SM9", "HERMANOS ANZURES ÑARVAEZ", sucursal="Matriz",
                            no_certificado="99999000000000000123")
    cert = Certificate.from_bytes(cred.certificate.der)
    assert cert.no_certificado == "99999000000000000123"
    assert cert.x509.serial_number == int.from_bytes(b"99999000000000000123", "big")
    assert (cert.rfc, cert.name, cert.sucursal) == ("HAÑ930228SM9", "HERMANOS ANZURES ÑARVAEZ", "Matriz")
    assert cert.is_csd
    fiel = sandbox_ca.issue("HAÑ930228SM9", "HERMANOS", fiel=True).certificate
    assert fiel.is_fiel and not fiel.is_csd


def test_sat_key_format_round_trip(sandbox_ca):
    cred = sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE")
    der = cred.key.to_der("pw")
    again = Credential.load(cred.certificate.der, der, "pw")
    assert again.key.matches(cred.certificate)
    assert PrivateKey.from_bytes(cred.key.to_pem(), None).matches(cred.certificate)


def test_validity_window():
    cert = Certificate.from_bytes((CSD / "EKU9003173C9_csd_2027.cer").read_bytes())
    assert cert.valid_at(datetime(2026, 11, 24, tzinfo=timezone.utc))
    assert not cert.valid_at(datetime(2027, 5, 19, tzinfo=timezone.utc))


def test_der_ending_in_whitespace_bytes_is_not_stripped(sandbox_ca, csd):
    """DER is binary: a certificate whose last signature byte is 0x20 or 0x0a must still load."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding

    base = csd.certificate.x509
    for serial in range(1, 5000):
        cert = (x509.CertificateBuilder().subject_name(base.subject).issuer_name(base.issuer)
                .public_key(base.public_key()).serial_number(serial)
                .not_valid_before(base.not_valid_before_utc).not_valid_after(base.not_valid_after_utc)
                .sign(sandbox_ca.key, hashes.SHA256()))
        der = cert.public_bytes(Encoding.DER)
        if der[-1:] in (b" ", b"\n", b"\r", b"\t", b"\x0b", b"\x0c"):
            break
    else:
        raise AssertionError("no certificate ending in a whitespace byte")
    assert Certificate.from_bytes(der).x509.serial_number == serial
    assert Certificate.from_base64(base64.b64encode(der).decode()).rfc == "EKU9003173C9"
