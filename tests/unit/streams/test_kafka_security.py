"""Kafka security settings: which ones are refused, and what each client library gets."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import faust
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from riskstream.streams import kafka_security
from riskstream.streams.settings import Settings

PASSWORD = "s3cret-never-shown"


def settings(**values: Any) -> Settings:
    return Settings(**{"kafka_bootstrap": "broker:9093", **values})


def sasl_ssl(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": "worker",
        "kafka_sasl_password": PASSWORD,
    }
    return settings(**{**base, **values})


@pytest.fixture
def pem_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_plaintext_by_default() -> None:
    plain = settings()
    assert kafka_security.problem(plain) is None
    assert kafka_security.client_options(plain) == {
        "bootstrap_servers": "broker:9093",
        "security_protocol": "PLAINTEXT",
    }
    assert kafka_security.faust_credentials(plain) is None


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"kafka_sasl_password": None}, "needs both KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
        ({"kafka_sasl_username": None}, "needs both"),
        ({"kafka_sasl_password": ""}, "needs both"),
        ({"kafka_security_protocol": "PLAINTEXT"}, "KAFKA_SASL_* settings are set but"),
        ({"kafka_security_protocol": "SSL"}, "KAFKA_SASL_* settings are set but"),
        ({"kafka_ssl_ca_file": Path("/nonexistent/ca.pem")}, "KAFKA_SSL_CA_FILE: cannot read"),
        ({"kafka_ssl_cert_file": Path("/nonexistent/c.pem")}, "go together"),
    ],
    ids=[
        "no-password",
        "no-username",
        "empty-password",
        "sasl-under-plaintext",
        "sasl-under-ssl",
        "missing-ca",
        "cert-without-key",
    ],
)
def test_settings_that_cannot_work_are_refused(values: dict[str, Any], said: str) -> None:
    refused = sasl_ssl(**values)
    reason = kafka_security.problem(refused)
    assert reason is not None and said in reason
    assert PASSWORD not in reason
    with pytest.raises(kafka_security.KafkaSecurityError, match="KAFKA_"):
        kafka_security.check(refused)


def test_a_mechanism_without_a_sasl_protocol_is_refused() -> None:
    reason = kafka_security.problem(settings(kafka_sasl_mechanism="PLAIN"))
    assert reason is not None and "KAFKA_SECURITY_PROTOCOL is PLAINTEXT" in reason


def test_tls_files_without_a_tls_protocol_are_refused(pem_files: tuple[Path, Path]) -> None:
    reason = kafka_security.problem(settings(kafka_ssl_ca_file=pem_files[0]))
    assert reason is not None and reason.startswith("KAFKA_SSL_CA_FILE set but")


def test_a_file_that_is_no_certificate_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    reason = kafka_security.problem(sasl_ssl(kafka_ssl_ca_file=garbage))
    assert reason is not None and reason.startswith("the KAFKA_SSL_* files cannot be used")


def test_sasl_ssl_reaches_both_client_libraries(pem_files: tuple[Path, Path]) -> None:
    secure = sasl_ssl(kafka_ssl_ca_file=pem_files[0])
    assert kafka_security.problem(secure) is None
    options = kafka_security.client_options(secure)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "worker"
    assert options["sasl_plain_password"] == PASSWORD
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED

    credentials = kafka_security.faust_credentials(secure)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert (credentials.username, credentials.password) == ("worker", PASSWORD)
    assert PASSWORD not in repr(credentials)


def test_sasl_plaintext_defaults_to_plain_and_sends_no_tls() -> None:
    login = sasl_ssl(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism=None)
    options = kafka_security.client_options(login)
    assert options["sasl_mechanism"] == "PLAIN" and "ssl_context" not in options
    credentials = kafka_security.faust_credentials(login)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_PLAINTEXT"


def test_mutual_tls_loads_the_client_certificate(pem_files: tuple[Path, Path]) -> None:
    cert_file, key_file = pem_files
    mutual = settings(
        kafka_security_protocol="SSL",
        kafka_ssl_ca_file=cert_file,
        kafka_ssl_cert_file=cert_file,
        kafka_ssl_key_file=key_file,
    )
    assert kafka_security.problem(mutual) is None
    assert "sasl_mechanism" not in kafka_security.client_options(mutual)
    credentials = kafka_security.faust_credentials(mutual)
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.protocol.value == "SSL"
