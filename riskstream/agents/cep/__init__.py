"""The rule engine: compiled declarative rules over per-entity window state (no Kafka)."""
