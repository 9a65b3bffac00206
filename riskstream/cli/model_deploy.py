"""``riskstream model deploy|retire|list``: which learned models score, through ``risk.models``.

A deployment is an operator's action: its audit line is stored first (``risk.audit``,
this command's own hash chain), then the model's record. A record is checked here as
every worker will check it (the same book), so what the command accepts the workers
apply; a worker still refuses, with its reason, anything else written to the topic.
Deploying a model ``active`` also retires the model active before it, so the topic says
what is in force: one active model, or none.
"""

from __future__ import annotations

import getpass
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer

from riskstream.agents.model_artefact import ModelArtefact
from riskstream.agents.model_features import FEATURES
from riskstream.agents.model_serving import model_book
from riskstream.cli.broker import one_partition_records, require_broker
from riskstream.streams.audit_chain import AuditChain
from riskstream.streams.bounds import MAX_MODEL_RECORD_BYTES
from riskstream.streams.kafka_security import client_options
from riskstream.streams.model_record import ModelAudit, ModelMode, ModelRecord
from riskstream.streams.scoring_model import AuditRecord
from riskstream.streams.settings import Settings
from riskstream.streams.topics import MODEL_RECORD_HEADROOM
from riskstream.tables.model_book import ModelBook

SEND_TIMEOUT_S = 30.0
POLL_MS = 1000
TOPIC_WAIT_S = 5.0
# The client's side of the topic's max.message.bytes (streams/topics.py).
CLIENT_MAX_BYTES = MAX_MODEL_RECORD_BYTES + MODEL_RECORD_HEADROOM
DEPLOY_MODES: tuple[ModelMode, ...] = ("active", "shadow")


class ModelCommandError(Exception):
    """Refused: nothing was changed; the message says why."""


def read_artefact(path: Path) -> ModelArtefact:
    """The artefact in ``path``, checked as a worker checks it."""
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_RECORD_BYTES:
            raise ModelCommandError(f"{path}: {size} bytes, the most is {MAX_MODEL_RECORD_BYTES}")
        raw = path.read_bytes()
    except OSError as error:
        raise ModelCommandError(f"{path}: {error.strerror or error}") from None
    try:
        return ModelArtefact.from_bytes(raw)
    except ValueError as error:
        raise ModelCommandError(f"{path}: {error}") from None


def read_book(settings: Settings) -> ModelBook[ModelArtefact]:
    """The models as a worker holds them: every record of the topic, applied in order."""
    book = model_book(FEATURES)
    require_broker(settings)
    topic = settings.topics.models
    consumer = KafkaConsumer(
        **client_options(settings), group_id=None, enable_auto_commit=False,
        max_partition_fetch_bytes=CLIENT_MAX_BYTES, fetch_max_bytes=CLIENT_MAX_BYTES,
    )  # fmt: skip
    try:
        # A topic created moments ago may not be in every broker's metadata yet.
        deadline = time.monotonic() + TOPIC_WAIT_S
        while topic not in consumer.topics() and time.monotonic() < deadline:
            time.sleep(0.2)
        if topic not in consumer.topics():
            raise ModelCommandError(
                f"no topic {topic} at {settings.kafka_bootstrap}, or this Kafka login may not "
                "read it: run `riskstream topics create` first, or see `riskstream acls list`"
            )
        for record in one_partition_records(consumer, topic):
            book.apply(record.key, record.value, record.offset)
    finally:
        consumer.close()
    return book


def _record(artefact: ModelArtefact, mode: ModelMode) -> bytes:
    value = ModelRecord(model_id=artefact.model_id, mode=mode, artefact=artefact.to_dict()).encode()
    if len(value) > MAX_MODEL_RECORD_BYTES:
        raise ModelCommandError(
            f"model {artefact.model_id}: its record is {len(value)} bytes, "
            f"the most is {MAX_MODEL_RECORD_BYTES}"
        )
    return value


def actor(operator: str | None) -> str:
    """Who acts: ``--operator``, else the local user at this host."""
    if operator and operator.strip():
        return operator.strip()[:200]
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"[:200]


def deploy(
    settings: Settings, path: Path, mode: str, operator: str | None, reason: str | None
) -> list[str]:
    """Publish the artefact in ``path`` in ``mode``; returns what was done, a line each."""
    if mode not in DEPLOY_MODES:
        raise ValueError(f"--mode takes {' or '.join(DEPLOY_MODES)}, not {mode!r}")
    new_mode: ModelMode = "active" if mode == "active" else "shadow"
    artefact = read_artefact(path)
    value = _record(artefact, new_mode)
    book = read_book(settings)
    before = book.active
    refusal = book.apply(artefact.model_id.encode(), value)
    if refusal is not None:
        raise ModelCommandError(f"refused, nothing published: {refusal.error}")
    changes: list[tuple[ModelArtefact, ModelMode]] = [(artefact, new_mode)]
    if new_mode == "active" and before is not None and before.model_id != artefact.model_id:
        changes.append((before.artefact, "retired"))
    why = reason or f"deployed {new_mode} with riskstream model deploy"
    done = []
    for model, changed_to in changes:
        text = why if model is artefact else f"replaced by {artefact.model_id} ({artefact.version})"
        _publish(settings, actor(operator), text, model, changed_to)
        done.append(f"{model.model_id} {model.version} {changed_to}")
    return done


def retire(settings: Settings, model_id: str, operator: str | None, reason: str | None) -> str:
    entry = read_book(settings).get(model_id)
    if entry is None:
        raise ModelCommandError(f"no model {model_id} on {settings.topics.models}")
    if entry.mode == "retired":
        raise ModelCommandError(f"model {model_id} is retired already")
    _publish(settings, actor(operator), reason or "retired with riskstream model retire",
             entry.artefact, "retired")  # fmt: skip
    return f"{model_id} {entry.artefact.version} retired"


def _publish(
    settings: Settings, who: str, reason: str, artefact: ModelArtefact, mode: ModelMode
) -> None:
    """The audit line, in this command's own chain, stored first; then the record."""
    require_broker(settings)
    audit = AuditRecord.model_validate({
        "at": datetime.now(UTC), "actor": who, "action": "model-deploy", "reason": reason[:2000],
        "model": ModelAudit(model_id=artefact.model_id, version=artefact.version, mode=mode),
    })  # fmt: skip
    chain = AuditChain(f"cli:{socket.gethostname()}")
    key = artefact.model_id.encode()
    producer = KafkaProducer(
        **client_options(settings), acks="all", max_request_size=CLIENT_MAX_BYTES
    )
    try:
        producer.send(settings.topics.audit, key=key, value=chain.seal(audit)).get(
            timeout=SEND_TIMEOUT_S
        )
        producer.send(settings.topics.models, key=key, value=_record(artefact, mode)).get(
            timeout=SEND_TIMEOUT_S
        )
    finally:
        producer.close()


def listing(settings: Settings, say: Callable[[str], None]) -> None:
    book = read_book(settings)
    for entry in book.entries():
        card = entry.artefact.card
        metrics = " ".join(
            f"{name}={value:.3f}" for name, value in sorted(card.metrics.items())[:4]
        )
        say(f"{entry.model_id:<24} {book.state(entry):<9} {entry.artefact.version}  "
            f"trained {card.train_from.date()}..{card.train_to.date()}  {metrics}")  # fmt: skip
    if not book.entries():
        say("no models: the rules decide alone")
    for refusal in book.refusals:
        say(f"refused at offset {refusal.offset}: {refusal.error}")


def run_action(
    settings: Settings,
    action: str,
    targets: list[str],
    options: dict[str, str | None],
    say: Callable[[str], None],
) -> None:
    """One ``riskstream model`` call. Raises ModelCommandError when refused, ValueError
    when the call itself is wrong."""
    operator, reason = options.get("operator"), options.get("reason")
    if action == "deploy" and len(targets) == 1:
        for line in deploy(settings, Path(targets[0]), options.get("mode") or "", operator, reason):
            say(f"published {line}")
    elif action == "retire" and len(targets) == 1:
        say(f"published {retire(settings, targets[0], operator, reason)}")
    elif action == "list" and not targets:
        listing(settings, say)
    else:
        raise ValueError(
            "use: deploy FILE --mode active|shadow [--operator NAME --reason TEXT] "
            "| retire MODEL_ID | list"
        )
