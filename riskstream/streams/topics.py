"""The topic catalog and its idempotent creation (kafka-python admin)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError, TopicAuthorizationFailedError

from riskstream.streams.bounds import MAX_MODEL_RECORD_BYTES
from riskstream.streams.kafka_security import client_options
from riskstream.streams.settings import Settings

log = logging.getLogger(__name__)

WEEK_MS = 7 * 24 * 3600 * 1000
# Room for a model record's key, headers and batch framing beside its value.
MODEL_RECORD_HEADROOM = 64 * 1024


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool = False
    retention_ms: int | None = None
    purpose: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, str]:
        settings = {"cleanup.policy": "compact" if self.compacted else "delete", **self.extra}
        if self.retention_ms is not None:
            settings["retention.ms"] = str(self.retention_ms)
        return settings


def rekey_topic_name(settings: Settings) -> str:
    """Per app id: two deployments on one cluster never mix their re-keyed events."""
    return f"{settings.app_id}-entity-rekey"


# The worker's table of account state (tables/faust_tables.py), whose changelog the
# scorer processes follow.
ACCOUNT_STATE_TABLE = "account-state"


def changelog_topic_name(app_id: str, table: str) -> str:
    """The changelog topic Faust gives ``table`` of the app ``app_id``."""
    return f"{app_id}-{table}-changelog"


def catalog(settings: Settings) -> list[TopicSpec]:
    """Every topic riskstream reads or writes, except Faust's own changelogs.

    The keyed input topics share one partition count: an account's transactions and
    account events must land on the same partition number to meet in one table record.
    """
    names, keyed = settings.topics, settings.partitions
    return [
        TopicSpec(names.transactions, keyed, retention_ms=WEEK_MS, purpose="transactions in"),
        TopicSpec(names.account_events, keyed, retention_ms=WEEK_MS, purpose="account events in"),
        TopicSpec(names.feedback, keyed, retention_ms=4 * WEEK_MS, purpose="analyst labels in"),
        TopicSpec(names.signals, keyed, retention_ms=4 * WEEK_MS, purpose="risk signals out"),
        TopicSpec(names.decisions, keyed, retention_ms=4 * WEEK_MS, purpose="decisions out"),
        TopicSpec(names.dead_letter, 1, retention_ms=4 * WEEK_MS, purpose="rejected messages"),
        TopicSpec(names.rules, 1, compacted=True, purpose="rule documents (state)"),
        TopicSpec(names.penalties, 1, compacted=True, purpose="penalty center entries (state)"),
        TopicSpec(names.rule_proposals, 1, compacted=True, purpose="rule changes to approve"),
        TopicSpec(
            names.rule_suspensions, 1, compacted=True, purpose="rule versions too slow to run"
        ),
        TopicSpec(names.audit, 1, retention_ms=-1, purpose="audit trail of changes"),
        TopicSpec(names.profiles, keyed, compacted=True, purpose="long-horizon profiles (state)"),
        TopicSpec(
            names.models,
            1,
            compacted=True,
            purpose="scoring models and their modes (state)",
            # A record carries a whole booster: larger than the broker's 1 MiB default.
            extra={"max.message.bytes": str(MAX_MODEL_RECORD_BYTES + MODEL_RECORD_HEADROOM)},
        ),
        TopicSpec(
            rekey_topic_name(settings),
            keyed,
            retention_ms=24 * 3600 * 1000,
            purpose="events re-keyed by device, IP, merchant ... (internal)",
        ),
    ]


def admin_client(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(
        **client_options(settings),
        client_id=f"{settings.app_id}-admin",
        request_timeout_ms=15_000,
    )


def create_topics(settings: Settings, *, timeout_s: float = 30.0) -> dict[str, str]:
    """Create missing topics; existing ones are left alone. Returns name -> outcome."""
    specs = catalog(settings)
    outcome: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = admin_client(settings)
            break
        except KafkaError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"cannot reach Kafka at {settings.kafka_bootstrap}: {error}"
                ) from error
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        for spec in specs:
            if spec.name in existing:
                outcome[spec.name] = "exists"
                continue
            try:
                admin.create_topics(
                    [
                        NewTopic(
                            name=spec.name,
                            num_partitions=spec.partitions,
                            replication_factor=settings.replication_factor,
                            topic_configs=spec.config(),
                        )
                    ]
                )
                outcome[spec.name] = "created"
            except TopicAlreadyExistsError:
                outcome[spec.name] = "exists"
            except TopicAuthorizationFailedError:
                # Not this login's to create, nor to see (the broker hides a topic
                # from a login without Describe on it): e.g. a worker and the
                # rule proposals.
                outcome[spec.name] = "not allowed"
    finally:
        admin.close()
    for name, result in outcome.items():
        if result == "not allowed":
            log.warning("topic %s: this Kafka login may neither create nor see it", name)
        else:
            log.info("topic %s: %s", name, result)
    return outcome


def topic_max_message_bytes(settings: Settings, topic: str) -> int | None:
    """The largest record batch ``topic`` takes (its ``max.message.bytes``, its own or the
    broker's default), or None if the broker does not say."""
    try:
        admin = admin_client(settings)
    except KafkaError as error:
        log.warning("cannot read the configuration of %s: %r", topic, error)
        return None
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs=["max.message.bytes"])
        # "all": with kafka-python's default ("modified") a default value is left out.
        described = admin.describe_configs([resource], config_filter="all")
        entry = described.get("topic", {}).get(topic, {}).get("max.message.bytes")
        return int(entry["value"]) if entry else None
    except (KafkaError, KeyError, TypeError, ValueError) as error:
        log.warning("cannot read max.message.bytes of %s: %r", topic, error)
        return None
    finally:
        admin.close()
