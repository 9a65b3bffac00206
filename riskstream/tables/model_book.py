"""The models in force, a replica on every worker of the compacted ``risk.models``.

Every record is hostile until read: one that is not JSON, not a model record, whose
artefact does not read (``parse``), or that needs features the scorer does not compute
(``known_features``) is refused with its reason, counted and logged, and the model's
previous record stays in force. Of the records marked ``active`` the newest (highest
offset) wins, so at most one model decides and every worker picks the same one, before
and after compaction; any number of shadows (up to ``MAX_SHADOW_MODELS``) are scored
beside it. The artefact's reader is given, not imported: the book holds records, the
agents know what a model is.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from riskstream.streams.bounds import MAX_SHADOW_MODELS
from riskstream.streams.model_record import ModelMode, ModelRecordError, parse_model_record

log = logging.getLogger(__name__)
MAX_MODELS = 64  # records kept, retired ones included: each holds its artefact


class Artefact(Protocol):
    """What the book needs of a model artefact."""

    @property
    def model_id(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def features(self) -> Sequence[str]: ...


A = TypeVar("A", bound=Artefact)


@dataclass(frozen=True, slots=True)
class ModelEntry(Generic[A]):
    model_id: str
    mode: ModelMode
    artefact: A
    offset: int
    applied_at: float


@dataclass(frozen=True, slots=True)
class ModelRefusal:
    model_id: str
    offset: int
    error: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "offset": self.offset,
            "error": self.error,
            "at": self.at,
        }


class ModelBook(Generic[A]):
    """The latest good record of each model id, and which one is active."""

    def __init__(self, parse: Callable[[bytes], A], known_features: Collection[str]) -> None:
        self._parse = parse
        self._known = frozenset(known_features)
        self._entries: dict[str, ModelEntry[A]] = {}
        self.refusals: deque[ModelRefusal] = deque(maxlen=100)
        self.refused = 0
        self.changes = 0
        # Derived on each change: asked on every score request.
        self._active: ModelEntry[A] | None = None
        self._shadows: tuple[ModelEntry[A], ...] = ()

    def apply(
        self, key: bytes | None, value: bytes | None, offset: int = -1
    ) -> ModelRefusal | None:
        """Apply one record of the models topic; returns the refusal, if refused."""
        model_id = key.decode(errors="replace")[:100] if key else ""
        try:
            entry = self._entry(key, value, offset)
        except (ModelRecordError, ValueError) as error:
            return self._refuse(model_id, offset, str(error))
        # A record is written by whoever may write the topic: whatever the artefact's
        # reader raises on it is that record's refusal, never the worker's end.
        except Exception as error:
            return self._refuse(
                model_id, offset, f"model {model_id}: cannot be read: {type(error).__name__}"
            )
        self._entries[entry.model_id] = entry
        self._derive()
        self.changes += 1
        log.info(
            "model %s version %s now %s (offset %s)",
            entry.model_id, entry.artefact.version, self.state(entry), offset,
        )  # fmt: skip
        return None

    def apply_record(self, record: Any) -> None:
        self.apply(record.key, record.value, record.offset)

    def _entry(self, key: bytes | None, value: bytes | None, offset: int) -> ModelEntry[A]:
        record = parse_model_record(key, value)
        artefact = self._parse(record.artefact_bytes())
        if artefact.model_id != record.model_id:
            raise ModelRecordError(
                f"model {record.model_id}: its artefact is model {artefact.model_id!r}"
            )
        unknown = [name for name in artefact.features if name not in self._known]
        if unknown:
            raise ModelRecordError(
                f"model {record.model_id}: features the scorer does not compute: "
                f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}"
            )
        if record.model_id not in self._entries and len(self._entries) >= MAX_MODELS:
            raise ModelRecordError(
                f"model {record.model_id}: {MAX_MODELS} models are kept, the most"
            )
        shadows = [e for e in self._entries.values() if e.mode == "shadow"]
        if (
            record.mode == "shadow"
            and len(shadows) >= MAX_SHADOW_MODELS
            and all(e.model_id != record.model_id for e in shadows)
        ):
            raise ModelRecordError(
                f"model {record.model_id}: {MAX_SHADOW_MODELS} shadow models run already, "
                "the most (each costs every score request a predict): retire one first"
            )
        return ModelEntry(record.model_id, record.mode, artefact, offset, time.time())

    def _refuse(self, model_id: str, offset: int, error: str) -> ModelRefusal:
        refusal = ModelRefusal(model_id, offset, error[:500], time.time())
        self.refusals.append(refusal)
        self.refused += 1
        log.error("model record refused, the model's previous record stays: %s", refusal.error)
        return refusal

    def _derive(self) -> None:
        marked = [entry for entry in self._entries.values() if entry.mode == "active"]
        self._active = max(marked, key=lambda entry: entry.offset, default=None)
        self._shadows = tuple(
            sorted(
                (entry for entry in self._entries.values() if entry.mode == "shadow"),
                key=lambda entry: entry.model_id,
            )
        )

    @property
    def active(self) -> ModelEntry[A] | None:
        return self._active

    @property
    def shadows(self) -> tuple[ModelEntry[A], ...]:
        return self._shadows

    def get(self, model_id: str) -> ModelEntry[A] | None:
        return self._entries.get(model_id)

    def state(self, entry: ModelEntry[A]) -> str:
        """``active``, ``shadow``, ``retired``, or ``replaced``: marked active, but a newer
        record marked another model active."""
        if entry.mode == "active" and entry is not self._active:
            return "replaced"
        return entry.mode

    def entries(self) -> list[ModelEntry[A]]:
        return sorted(self._entries.values(), key=lambda entry: entry.offset)

    def summary(self, extra: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
        """A row per model, newest record last; ``extra[model_id]`` merged into its row."""
        return [
            {
                "model_id": entry.model_id,
                "mode": self.state(entry),
                "version": entry.artefact.version,
                "features": len(entry.artefact.features),
                "offset": entry.offset,
                **(extra or {}).get(entry.model_id, {}),
            }
            for entry in self.entries()
        ]
