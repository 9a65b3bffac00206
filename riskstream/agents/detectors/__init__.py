"""Pattern detectors: plain Python over account state, no Kafka."""
