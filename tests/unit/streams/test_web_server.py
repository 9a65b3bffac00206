"""The web server's addresses and TLS, as the Faust app is given them."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from riskstream.streams.app import WebCertificateError, create_faust_app, server_ssl_context
from riskstream.streams.settings import Settings


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "worker-1.internal")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert, private = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, private


def test_without_a_certificate_the_server_speaks_http_where_it_is_advertised(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, web_host="worker-1.internal", web_bind="0.0.0.0")
    assert server_ssl_context(settings) is None
    conf = create_faust_app(settings).conf
    assert (conf.web_bind, conf.web_host) == ("0.0.0.0", "worker-1.internal")
    assert str(conf.canonical_url) == "http://worker-1.internal:6066"


def test_with_a_certificate_it_speaks_tls_only_and_advertises_https(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    settings = Settings(
        data_dir=tmp_path, web_host="worker-1.internal", web_ssl_cert_file=cert,
        web_ssl_key_file=key,
    )  # fmt: skip
    context = server_ssl_context(settings)
    assert context is not None
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    conf = create_faust_app(settings).conf
    assert isinstance(conf.web_ssl_context, ssl.SSLContext)
    assert conf.web_bind == "worker-1.internal"  # the bind address defaults to the host
    assert str(conf.canonical_url) == "https://worker-1.internal:6066"


def test_faust_debug_views_follow_the_setting(tmp_path: Path) -> None:
    off = create_faust_app(Settings(data_dir=tmp_path)).conf
    assert not (off.web_tables_enabled or off.web_router_enabled or off.web_graph_enabled)
    on = create_faust_app(Settings(data_dir=tmp_path, web_debug_views=True)).conf
    assert on.web_tables_enabled and on.web_router_enabled and on.web_graph_enabled


def test_a_certificate_that_cannot_be_loaded_is_named_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    for path in (bad, tmp_path / "missing.pem"):
        settings = Settings(web_ssl_cert_file=path, web_ssl_key_file=path)
        with pytest.raises(WebCertificateError, match="RISKSTREAM_WEB_SSL_CERT_FILE"):
            server_ssl_context(settings)
