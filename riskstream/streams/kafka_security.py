"""Kafka security settings turned into each client library's connection arguments.

Every Kafka client riskstream opens takes its protocol, login and TLS trust from here:
Faust's consumer and producer (:func:`faust_credentials`), the aiokafka followers and
the kafka-python admin, producers and consumers of the commands
(:func:`client_options`, whose argument names both libraries share). A worker or a
command first asks :func:`check`, so settings that cannot work are refused in one line
instead of surfacing as a connection retried forever.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import faust
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaConnectionError
from aiokafka.errors import KafkaError as AIOKafkaError
from aiokafka.protocol.metadata import MetadataRequest
from faust.types.auth import CredentialsT

from riskstream.streams.settings import Settings

LOGIN_TIMEOUT_S = 15.0


class KafkaSecurityError(Exception):
    """The Kafka security settings cannot be used, or the broker refused the login."""


def _uses_sasl(settings: Settings) -> bool:
    return settings.kafka_security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")


def _uses_tls(settings: Settings) -> bool:
    return settings.kafka_security_protocol in ("SSL", "SASL_SSL")


def _tls_files(settings: Settings) -> dict[str, Path]:
    files = {
        "KAFKA_SSL_CA_FILE": settings.kafka_ssl_ca_file,
        "KAFKA_SSL_CERT_FILE": settings.kafka_ssl_cert_file,
        "KAFKA_SSL_KEY_FILE": settings.kafka_ssl_key_file,
    }
    return {name: path for name, path in files.items() if path is not None}


def problem(settings: Settings) -> str | None:
    """Why the Kafka security settings cannot work, or None. Never quotes a secret."""
    protocol = settings.kafka_security_protocol
    password = settings.kafka_sasl_password
    has_password = password is not None and password.get_secret_value() != ""
    if _uses_sasl(settings):
        if not settings.kafka_sasl_username or not has_password:
            return (
                f"KAFKA_SECURITY_PROTOCOL={protocol} needs both KAFKA_SASL_USERNAME and"
                " KAFKA_SASL_PASSWORD"
            )
    elif settings.kafka_sasl_username or password is not None or settings.kafka_sasl_mechanism:
        # Credentials that are silently not sent are worse than none: the operator
        # believes the cluster sees a login.
        return (
            f"KAFKA_SASL_* settings are set but KAFKA_SECURITY_PROTOCOL is {protocol}:"
            " set it to SASL_SSL (or SASL_PLAINTEXT), or remove them"
        )
    files = _tls_files(settings)
    if files and not _uses_tls(settings):
        return (
            f"{', '.join(files)} set but KAFKA_SECURITY_PROTOCOL is {protocol}:"
            " set it to SASL_SSL or SSL, or remove them"
        )
    if (settings.kafka_ssl_cert_file is None) != (settings.kafka_ssl_key_file is None):
        return "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together"
    for name, path in files.items():
        if not path.is_file() or not os.access(path, os.R_OK):
            return f"{name}: cannot read {path}"
    if _uses_tls(settings):
        try:
            tls_context(settings)
        except (ssl.SSLError, OSError) as error:
            reason = getattr(error, "reason", None) or error.strerror or type(error).__name__
            return f"the KAFKA_SSL_* files cannot be used: {reason}"
    return None


def check(settings: Settings) -> None:
    """Raise :class:`KafkaSecurityError` when the settings cannot work."""
    reason = problem(settings)
    if reason is not None:
        raise KafkaSecurityError(reason)


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The client TLS context (broker certificate and host name checked), or None."""
    if not _uses_tls(settings):
        return None
    ca_file = settings.kafka_ssl_ca_file
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.kafka_ssl_cert_file is not None and settings.kafka_ssl_key_file is not None:
        context.load_cert_chain(settings.kafka_ssl_cert_file, settings.kafka_ssl_key_file)
    return context


def client_options(settings: Settings) -> dict[str, Any]:
    """Bootstrap and security arguments of a kafka-python or aiokafka client (both
    libraries name them alike)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
    }
    if _uses_tls(settings):
        options["ssl_context"] = tls_context(settings)
    if _uses_sasl(settings):
        password = settings.kafka_sasl_password
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism or "PLAIN"
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = password.get_secret_value() if password else None
    return options


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """Faust's ``broker_credentials``: what its consumer, producer and topic creation use.
    Raises :class:`KafkaSecurityError` for settings that cannot work."""
    check(settings)
    context = tls_context(settings)
    if _uses_sasl(settings):
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            # With a context Faust speaks SASL_SSL, without one SASL_PLAINTEXT.
            ssl_context=context,
            mechanism=settings.kafka_sasl_mechanism or "PLAIN",
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def verify_login(settings: Settings, timeout_s: float = LOGIN_TIMEOUT_S) -> None:
    """Prove that the settings work against one bootstrap broker: connect, hand shake
    and log in with the very options the clients use, and have a metadata request
    answered. Whatever fails raises :class:`KafkaSecurityError` in one line (the clients
    would retry it forever). Asked only once a bootstrap address takes connections."""
    check(settings)
    # In a thread of its own: commands call this from inside Faust's running loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        reason = pool.submit(asyncio.run, _login_refusal(settings, timeout_s)).result()
    if reason is not None:
        who = settings.kafka_sasl_username or (
            "a TLS client" if _uses_tls(settings) else "a plaintext client"
        )
        raise KafkaSecurityError(
            f"Kafka at {settings.kafka_bootstrap} refused {who}"
            f" ({settings.kafka_security_protocol}): {reason}"
        )


async def _login_refusal(settings: Settings, timeout_s: float) -> str | None:
    """None once one bootstrap broker answered a metadata request, else why not."""
    options = client_options(settings)
    del options["bootstrap_servers"]
    reasons: list[str] = []
    for entry in settings.kafka_bootstrap.split(","):
        host, _, port = entry.strip().rpartition("://")[2].rpartition(":")
        try:
            connection = await create_conn(
                host.strip("[]"), int(port), request_timeout_ms=int(timeout_s * 1000), **options
            )
        except KafkaConnectionError as error:  # dropped while asking for its versions
            reasons.append(_unanswered(settings, error))
            continue
        except (TimeoutError, AIOKafkaError, OSError, ValueError) as error:
            reasons.append(_named(error))
            continue
        try:
            # A connection alone proves little: a TLS-only client gets through the TLS
            # handshake of a SASL_SSL listener, which then drops it at its first request.
            await connection.send(MetadataRequest([]))
        except (TimeoutError, AIOKafkaError, OSError) as error:
            reasons.append(_unanswered(settings, error))
            continue
        finally:
            connection.close()
        return None
    return "; ".join(reasons)


def _named(error: BaseException) -> str:
    # aiokafka's errors name themselves; others do not.
    if isinstance(error, AIOKafkaError):
        return str(error)[:200]
    return f"{type(error).__name__}: {error}"[:200]


def _unanswered(settings: Settings, error: BaseException) -> str:
    protocol = settings.kafka_security_protocol
    if isinstance(error, KafkaConnectionError):
        return (
            f"it dropped the connection at the first request: its listener expects"
            f" another security protocol than {protocol} or another SASL mechanism"
            f" ({_named(error)})"
        )[:300]
    if isinstance(error, TimeoutError):
        return f"no answer to a metadata request (is its listener {protocol}?)"
    return f"a metadata request failed: {_named(error)}"
