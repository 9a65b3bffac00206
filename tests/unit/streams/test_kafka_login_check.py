"""The start-up login check asks a broker for metadata with the clients' own options: a
listener that takes the connection but not the client's requests is refused.

A fake broker on a local port speaks just enough Kafka: it answers ApiVersions (which a
SASL listener answers before any login too), then behaves as told on the next request.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import pytest

from riskstream.streams import kafka_security
from riskstream.streams.settings import Settings

Then = Literal["answer", "drop", "ignore", "drop at once"]
API_VERSIONS, METADATA = 18, 3


def _read_request(client: socket.socket) -> tuple[int, int] | None:
    """(api key, correlation id) of the next request, or None at its end."""
    size = client.recv(4, socket.MSG_WAITALL)
    if len(size) < 4:
        return None
    message = client.recv(struct.unpack(">i", size)[0], socket.MSG_WAITALL)
    api_key, _version, correlation = struct.unpack(">hhi", message[:8])
    return api_key, correlation


def _reply(client: socket.socket, correlation: int, body: bytes) -> None:
    payload = struct.pack(">i", correlation) + body
    client.sendall(struct.pack(">i", len(payload)) + payload)


@contextmanager
def fake_broker(then: Then) -> Iterator[str]:
    """A broker at the returned address: ApiVersions answered (Metadata v0 only), then
    a metadata request answered (no brokers, no topics), dropped, or ignored; or the
    connection dropped at the first request, ApiVersions (a TLS port read as plaintext)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        client, _ = server.accept()
        with client:
            while (request := _read_request(client)) is not None:
                api_key, correlation = request
                if then == "drop at once":
                    return
                if api_key == API_VERSIONS:
                    versions = [(API_VERSIONS, 0, 0), (METADATA, 0, 0)]
                    body = struct.pack(">hi", 0, len(versions))
                    body += b"".join(struct.pack(">hhh", *item) for item in versions)
                    _reply(client, correlation, body)
                elif then == "answer":
                    _reply(client, correlation, struct.pack(">ii", 0, 0))
                elif then == "drop":
                    return
                else:
                    client.recv(1)  # until the client gives up and closes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.close()
        thread.join(5)


def plaintext(bootstrap: str) -> Settings:
    return Settings(kafka_bootstrap=bootstrap)


def test_a_broker_that_answers_metadata_passes() -> None:
    with fake_broker("answer") as bootstrap:
        kafka_security.verify_login(plaintext(bootstrap), timeout_s=5)


@pytest.mark.parametrize("then", ["drop", "drop at once"])
def test_a_listener_that_drops_the_first_request_is_refused_in_one_line(then: Then) -> None:
    # What a SASL_SSL listener does to a TLS-only client after the TLS handshake, and a
    # TLS listener to a plaintext client.
    with (
        fake_broker(then) as bootstrap,
        pytest.raises(kafka_security.KafkaSecurityError) as refused,
    ):
        kafka_security.verify_login(plaintext(bootstrap), timeout_s=5)
    message = str(refused.value)
    assert message.startswith(f"Kafka at {bootstrap} refused a plaintext client (PLAINTEXT): ")
    assert "dropped the connection at the first request" in message
    assert "another security protocol than PLAINTEXT" in message
    assert "\n" not in message


def test_a_listener_that_never_answers_metadata_is_refused() -> None:
    with (
        fake_broker("ignore") as bootstrap,
        pytest.raises(kafka_security.KafkaSecurityError, match="no answer to a metadata"),
    ):
        kafka_security.verify_login(plaintext(bootstrap), timeout_s=1)


def test_no_listener_at_all_is_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with pytest.raises(kafka_security.KafkaSecurityError, match="refused a plaintext client"):
        kafka_security.verify_login(plaintext(f"127.0.0.1:{port}"), timeout_s=2)
