"""Upper bounds on every duration, count and size a rule or a penalty may carry.

Rules and penalties arrive from topics anyone with write access can fill, so each number
in them is hostile until checked. The bounds follow what the engine can keep: nothing
outlives an entity's record (400 days of silence, ``entity_retention_days``), and no
count may make one event's work unbounded.
"""

from __future__ import annotations

from datetime import timedelta

# The longest duration anywhere in a rule or a penalty (TTLs, windows, horizons): an
# entity silent for longer is deleted, so a longer memory has nothing to remember.
MAX_DURATION = timedelta(days=400)
MIN_DURATION = timedelta(milliseconds=1)
MAX_LATENESS = timedelta(days=7)
MAX_SEQUENCE_WITHIN = timedelta(days=30)

MAX_COUNT_WINDOW_EVENTS = 10_000
MAX_STEP_TIMES = 1_000
MAX_SEQUENCE_STEPS = 8
MAX_AGGREGATES = 32
MAX_EVENT_TYPES = 64
MAX_NAME_LENGTH = 100
MAX_FIELD_PATH_LENGTH = 200
MAX_EXPRESSION_LENGTH = 4_000
# Versions are compared and stored as 64-bit integers in the core and on the topic.
MAX_VERSION = 2**31 - 1

# In force at once, on every worker: each live rule costs every matching event its
# evaluation, and each key group one more entity record per event.
MAX_RULES = 500
MAX_KEY_GROUPS = 16

# A model record (``risk.models``): its artefact (a LightGBM booster as text) is far
# larger than any rule. The topic takes records this large (its ``max.message.bytes``),
# and the model CLI's producer and every worker's follower are sized to match.
MAX_MODEL_RECORD_BYTES = 8 * 1024 * 1024
# Shadow models in force at once: each costs every score request one more predict.
MAX_SHADOW_MODELS = 4


def describe(value: timedelta) -> str:
    """``400d``, ``7d``, ``1ms``: a bound as rule documents write it."""
    milliseconds = round(value.total_seconds() * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if milliseconds % size == 0:
            return f"{milliseconds // size}{unit}"
    return f"{milliseconds}ms"
