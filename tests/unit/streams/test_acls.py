"""The ACL table: who may write which topic, its Kafka ACLs, and the documented copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kafka.admin import ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourceType

from riskstream.streams import acls
from riskstream.streams.settings import Settings

DOCS = Path(__file__).resolve().parents[3] / "docs" / "security.md"


def settings(**values: Any) -> Settings:
    return Settings(**{"kafka_bootstrap": "broker:9093", **values})


def roles_that(operation: ACLOperation, topic: str, config: Settings) -> set[str]:
    return {
        grant.role
        for grant in acls.acl_table(config)
        if grant.resource == ResourceType.TOPIC
        and not grant.prefixed
        and grant.name == topic
        and operation in grant.operations
    }


def test_only_the_rule_admins_write_rules_and_few_write_the_state() -> None:
    config = settings()
    names = config.topics
    assert roles_that(ACLOperation.WRITE, names.rules, config) == {"rules"}
    assert roles_that(ACLOperation.WRITE, names.rule_proposals, config) == {"rules"}
    # Workers switch a rule version too slow to run off, for each other.
    assert roles_that(ACLOperation.WRITE, names.rule_suspensions, config) == {"worker"}
    assert roles_that(ACLOperation.READ, names.rule_suspensions, config) == {
        "worker", "rules", "scorer",
    }  # fmt: skip
    assert roles_that(ACLOperation.WRITE, names.penalties, config) == {"worker", "operator"}
    assert roles_that(ACLOperation.WRITE, names.audit, config) == {
        "worker", "operator", "rules", "models",
    }  # fmt: skip
    # Deploying a model is the model admins' action: the workers only read the models.
    assert roles_that(ACLOperation.WRITE, names.models, config) == {"models"}
    assert roles_that(ACLOperation.READ, names.models, config) == {"worker", "models", "scorer"}
    for topic in (names.signals, names.dead_letter):
        assert roles_that(ACLOperation.WRITE, topic, config) == {"worker"}
    # The scorer processes publish their decisions, and write nothing else.
    assert roles_that(ACLOperation.WRITE, names.decisions, config) == {"worker", "scorer"}
    assert {grant.name for grant in acls.acl_table(config)
            if grant.role == "scorer" and ACLOperation.WRITE in grant.operations} == {
        names.decisions
    }  # fmt: skip
    # ... and read the workers' account state, and no other table of theirs.
    assert f"{config.app_id}-account-state-changelog" in {
        grant.name for grant in acls.acl_table(config) if grant.role == "scorer"
    }
    assert roles_that(ACLOperation.WRITE, names.transactions, config) == {"producer"}
    assert roles_that(ACLOperation.WRITE, names.feedback, config) == {"labeller"}


def test_forwarded_transactions_let_the_worker_write_the_input() -> None:
    config = settings(score_forward_transactions=True)
    assert roles_that(ACLOperation.WRITE, config.topics.transactions, config) == {
        "worker",
        "scorer",
        "producer",
    }


def test_the_app_id_resources_are_granted_by_prefix() -> None:
    prefixed = {
        (grant.role, grant.resource, grant.name)
        for grant in acls.acl_table(settings(app_id="fraud-eu"))
        if grant.prefixed
    }
    assert prefixed == {
        ("worker", ResourceType.TOPIC, "fraud-eu-"),
        ("worker", ResourceType.GROUP, "fraud-eu"),
        ("reader", ResourceType.GROUP, acls.READER_GROUP_PREFIX),
    }
    assert not acls.READER_GROUP_PREFIX.startswith("fraud-eu")


def test_each_grant_becomes_allow_acls_for_its_principal() -> None:
    config = settings()
    principals = acls.parse_principals(["worker=svc-risk", "operator=User:ops"])
    made = acls.kafka_acls(acls.acl_table(config), principals)
    assert len(made) == sum(len(grant.operations) for grant in acls.acl_table(config))
    assert {acl.permission_type for acl in made} == {ACLPermissionType.ALLOW}
    assert {acl.host for acl in made} == {"*"}
    by_principal = {acl.principal for acl in made}
    assert {"User:svc-risk", "User:ops", "User:riskstream-rules"} <= by_principal
    group = next(acl for acl in made if acl.resource_pattern.resource_type == ResourceType.GROUP)
    assert group.resource_pattern.pattern_type == ACLResourcePatternType.PREFIXED


@pytest.mark.parametrize("given", ["worker", "nobody=x", "worker=", "worker= "])
def test_a_principal_must_name_a_role_and_a_user(given: str) -> None:
    with pytest.raises(acls.AclError, match="ROLE=NAME"):
        acls.parse_principals([given])


def test_the_documented_table_is_the_enforced_one() -> None:
    """docs/security.md shows what `riskstream acls list` prints with the defaults."""
    assert acls.render_table(settings()) in DOCS.read_text()
