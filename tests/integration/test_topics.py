"""The topic catalog is created idempotently, with the right shape, on the real broker."""

from __future__ import annotations

import subprocess
import sys

import pytest
from kafka.admin import ConfigResource, ConfigResourceType

from riskstream.streams.topics import admin_client, catalog
from tests.integration.conftest import ROOT, Sandbox

pytestmark = pytest.mark.integration


def run_cli(sandbox: Sandbox, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "riskstream", *args],
        env=sandbox.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_topics_create_is_idempotent_and_shapes_each_topic(sandbox: Sandbox) -> None:
    settings = sandbox.settings
    first = run_cli(sandbox, "topics", "create")
    specs = catalog(settings)
    for spec in specs:
        assert f"{spec.name}: created" in first
    second = run_cli(sandbox, "topics", "create")
    for spec in specs:
        assert f"{spec.name}: exists" in second

    admin = admin_client(settings)
    try:
        described = {
            item["name"]: len(item["partitions"])
            for item in admin.describe_topics([spec.name for spec in specs])
        }
        resources = [ConfigResource(ConfigResourceType.TOPIC, spec.name) for spec in specs]
        configs = admin.describe_configs(resources)["topic"]
        policies = {name: entries["cleanup.policy"]["value"] for name, entries in configs.items()}
    finally:
        admin.close()
    for spec in specs:
        assert described[spec.name] == spec.partitions
        assert policies[spec.name] == ("compact" if spec.compacted else "delete")
    assert policies[settings.topics.rules] == "compact"
    assert described[settings.topics.transactions] == described[settings.topics.account_events]


def test_topics_list_names_every_topic(sandbox: Sandbox) -> None:
    listing = run_cli(sandbox, "topics", "list")
    for spec in catalog(sandbox.settings):
        assert spec.name in listing
