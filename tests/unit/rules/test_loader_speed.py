"""The rule loader reads YAML with libyaml's safe loader: the same documents."""

from __future__ import annotations

import yaml

from riskstream.rules.loader import PACK_DIR, SAFE_LOADER


def test_the_fast_loader_reads_every_shipped_file_as_the_pure_python_one_does() -> None:
    assert SAFE_LOADER is yaml.CSafeLoader  # PyYAML's wheels carry libyaml
    files = sorted(PACK_DIR.parent.rglob("*.yaml"))
    assert len(files) >= 18
    for path in files:
        text = path.read_bytes()
        assert yaml.load(text, SAFE_LOADER) == yaml.safe_load(text), path
