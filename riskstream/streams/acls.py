"""What each component may do on the broker: the ACL table, as data.

One table, three uses: ``riskstream acls list`` prints it (docs/security.md holds the
same text, checked by a unit test), ``riskstream acls apply`` grants it on a cluster
with an authorizer, and the integration test runs every component under it.

A role is a component (the worker, the rule admins' command ...); each is granted to
one Kafka principal, ``User:riskstream-<role>`` unless told otherwise. Resources whose
names start with the app id (the consumer group, the changelog and re-key topics) are
granted by prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourceType,
)

from riskstream.streams.settings import Settings
from riskstream.streams.topics import (
    ACCOUNT_STATE_TABLE,
    admin_client,
    catalog,
    changelog_topic_name,
)

READ, WRITE, CREATE = ACLOperation.READ, ACLOperation.WRITE, ACLOperation.CREATE
DESCRIBE, DESCRIBE_CONFIGS = ACLOperation.DESCRIBE, ACLOperation.DESCRIBE_CONFIGS
TOPIC, GROUP = ResourceType.TOPIC, ResourceType.GROUP
LITERAL, PREFIXED = ACLResourcePatternType.LITERAL, ACLResourcePatternType.PREFIXED

# role -> what it is for (the order of the table)
ROLES: dict[str, str] = {
    "worker": "`riskstream worker`",
    "scorer": "`riskstream scorer`",
    "rules": "rule admins (`riskstream rules`)",
    "models": "model admins (`riskstream model`)",
    "operator": "operators (`riskstream penalties`)",
    "auditor": "auditors (`riskstream audit verify`)",
    "producer": "upstream payment services (the inputs)",
    "labeller": "case management (analysts' labels)",
    "reader": "downstream tools that consume the outputs",
    "topics": "topic setup (`riskstream topics create`)",
}
READER_GROUP_PREFIX = "risk.readers."


class AclError(Exception):
    """The ACLs could not be applied, or a principal is not understood."""


@dataclass(frozen=True, slots=True)
class Grant:
    """``role`` may do ``operations`` on the resource ``name`` (a prefix if ``prefixed``)."""

    role: str
    resource: ResourceType
    name: str
    operations: tuple[ACLOperation, ...]
    prefixed: bool = False

    def describe(self) -> str:
        kind = "group" if self.resource == GROUP else "topic"
        return f"{kind} `{self.name}`" + (" (prefix)" if self.prefixed else "")


def _topics(role: str, names: Iterable[str], *operations: ACLOperation) -> list[Grant]:
    return [Grant(role, TOPIC, name, operations) for name in names]


def acl_table(settings: Settings) -> list[Grant]:
    """Every grant, for these settings' topic names and app id."""
    t, app_id = settings.topics, settings.app_id
    worker = [
        *_topics("worker", (t.transactions, t.account_events, t.feedback), READ, DESCRIBE),
        # Models are deployed by the model admins only: a worker reads them.
        *_topics("worker", (t.rules, t.models), READ, DESCRIBE),
        # A worker disables a rule version too slow to run for every worker.
        *_topics("worker", (t.rule_suspensions,), READ, WRITE, DESCRIBE),
        *_topics("worker", (t.penalties,), READ, WRITE, DESCRIBE),
        *_topics("worker", (t.signals, t.decisions), READ, WRITE, DESCRIBE),
        # The leader rebuilds the long-horizon profiles (`riskstream profiles build`, run
        # by a CronJob, uses this login too); a record is cut to max.message.bytes.
        *_topics("worker", (t.profiles,), READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS),
        *_topics("worker", (t.audit,), WRITE, DESCRIBE),
        # DescribeConfigs: a dead letter is cut to the topic's max.message.bytes
        *_topics("worker", (t.dead_letter,), WRITE, DESCRIBE, DESCRIBE_CONFIGS),
        Grant("worker", TOPIC, f"{app_id}-", (READ, WRITE, CREATE, DESCRIBE, DESCRIBE_CONFIGS),
              prefixed=True),
        Grant("worker", GROUP, app_id, (READ, DESCRIBE), prefixed=True),
    ]  # fmt: skip
    if settings.score_forward_transactions:
        worker += _topics("worker", (t.transactions,), WRITE)
    # A scorer follows what it judges by and the workers' account state (the table's
    # changelog), and publishes its decisions.
    scorer = [
        *_topics("scorer", (t.signals, t.feedback, t.penalties, t.rules, t.rule_suspensions,
                            t.models, t.profiles), READ, DESCRIBE),
        *_topics("scorer", (changelog_topic_name(app_id, ACCOUNT_STATE_TABLE),), READ, DESCRIBE),
        *_topics("scorer", (t.decisions,), READ, WRITE, DESCRIBE),
    ]  # fmt: skip
    if settings.score_forward_transactions:
        scorer += _topics("scorer", (t.transactions,), WRITE)
    return [
        *worker,
        *scorer,
        *_topics("rules", (t.rules, t.rule_proposals), READ, WRITE, DESCRIBE),
        *_topics("rules", (t.audit,), WRITE, DESCRIBE),
        *_topics("models", (t.models,), READ, WRITE, DESCRIBE),
        *_topics("models", (t.audit,), WRITE, DESCRIBE),
        # `rules list` shows the rule versions the workers suspended.
        *_topics("rules", (t.rule_suspensions,), READ, DESCRIBE),
        *_topics("operator", (t.penalties,), READ, WRITE, DESCRIBE),
        *_topics("operator", (t.audit,), WRITE, DESCRIBE),
        *_topics("auditor", (t.audit,), READ, DESCRIBE),
        *_topics("producer", (t.transactions, t.account_events), WRITE, DESCRIBE),
        *_topics("labeller", (t.feedback,), WRITE, DESCRIBE),
        *_topics("reader", (t.signals, t.decisions), READ, DESCRIBE),
        Grant("reader", GROUP, READER_GROUP_PREFIX, (READ, DESCRIBE), prefixed=True),
        *_topics("topics", (spec.name for spec in catalog(settings)),
                 CREATE, DESCRIBE, DESCRIBE_CONFIGS),
    ]  # fmt: skip


def default_principals() -> dict[str, str]:
    return {role: f"User:riskstream-{role}" for role in ROLES}


def parse_principals(given: Iterable[str]) -> dict[str, str]:
    """The default principals with ``ROLE=NAME`` overrides (``NAME`` or ``User:NAME``)."""
    principals = default_principals()
    for item in given:
        role, equals, name = item.partition("=")
        if not equals or role not in ROLES or not name.strip():
            raise AclError(f"--principal takes ROLE=NAME with ROLE one of {', '.join(ROLES)}")
        name = name.strip()
        principals[role] = name if name.startswith("User:") else f"User:{name}"
    return principals


def kafka_acls(grants: Iterable[Grant], principals: Mapping[str, str]) -> list[ACL]:
    """One ALLOW ACL (from any host) per grant and operation."""
    return [
        ACL(
            principal=principals[grant.role],
            host="*",
            operation=operation,
            permission_type=ACLPermissionType.ALLOW,
            resource_pattern=ResourcePattern(
                grant.resource, grant.name, PREFIXED if grant.prefixed else LITERAL
            ),
        )
        for grant in grants
        for operation in grant.operations
    ]


def apply_acls(settings: Settings, principals: Mapping[str, str]) -> int:
    """Create the table's ACLs on the cluster (existing ones stay as they are); returns
    how many were asked for. Needs a login the cluster lets alter ACLs."""
    acls = kafka_acls(acl_table(settings), principals)
    admin = admin_client(settings)
    try:
        result = admin.create_acls(acls)
    finally:
        admin.close()
    failed = result["failed"]
    if failed:
        error = getattr(failed[0], "__name__", str(failed[0]))
        raise AclError(
            f"the cluster refused {len(failed)} of {len(acls)} ACLs ({error}): "
            "log in as a user that may alter them (a super user)"
        )
    return len(acls)


def _operation_name(operation: ACLOperation) -> str:
    return str(operation.name).title().replace("_", "")


def render_table(settings: Settings, principals: Mapping[str, str] | None = None) -> str:
    """The table as Markdown: a line per role and set of operations."""
    principals = principals or default_principals()
    lines = ["| role | principal | resources | operations |", "|---|---|---|---|"]
    for role, about in ROLES.items():
        rows: dict[tuple[ACLOperation, ...], list[str]] = {}
        for grant in acl_table(settings):
            if grant.role == role:
                rows.setdefault(grant.operations, []).append(grant.describe())
        first = f"{role}: {about} | `{principals[role]}`"
        for operations, resources in rows.items():
            names = ", ".join(_operation_name(operation) for operation in operations)
            lines.append(f"| {first} | {', '.join(resources)} | {names} |")
            first = " | "
    return "\n".join(lines)
