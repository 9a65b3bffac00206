"""The learned model as a versioned artefact: a LightGBM booster, its calibration and its
model card, in one JSON record that travels on a topic and is loaded by every worker.

A record read from a topic is hostile until proven otherwise. ``ModelArtefact.from_bytes``
refuses, with a ``ValueError`` naming the reason: a record over ``MAX_ARTEFACT_BYTES``,
one that is not JSON or not the schema, one whose ``version`` is not the digest of its
content (a record edited after it was made), a booster LightGBM cannot parse or that is
not a binary classifier, and a booster whose feature count or names differ from the
artefact's ``features``.

An artefact may hold a random forest beside the booster (``forest``, LightGBM ``rf`` text:
``agents/model_forest``); its margin is then the mean of the booster's log-odds and the
forest's, and its contributions the mean of both models' (in log-odds). A record made
before forests has none, keeps its version (the absent field is left out of the digest)
and scores as it did.

Scores: the margin goes through the calibration, fitted on a time-ordered
validation tail the booster never trained on: isotonic (piecewise linear through the
fitted points, applied to the booster's probability) or Platt (a logistic on the margin).
The probability becomes the scorer's points through the decision thresholds chosen on
that tail (``thresholds``, ``agents/model_thresholds.py``); a record made before they
existed has none, keeps its version (an absent field is left out of the digest) and
scores ``round(100 * p)``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import lightgbm as lgb
import numpy as np
import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from riskstream.agents.model_forest import (
    averaged,
    forest_contributions,
    forest_probability,
    in_log_odds,
    load_forest,
    log_odds,
)
from riskstream.agents.model_thresholds import DecisionThresholds, PointThresholds, model_points

# A booster of a few hundred trees of 31 leaves is a few hundred kilobytes of text, a
# forest beside it a few megabytes; the bound keeps a hostile record from costing a
# worker its memory.
MAX_ARTEFACT_BYTES = 8 * 1024 * 1024
MAX_FEATURES = 1000
MAX_CALIBRATION_POINTS = 5000

# LightGBM refuses JSON's special characters in feature names; ours are plain words.
FeatureName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Text = Annotated[str, Field(max_length=2000)]


class IsotonicCalibration(BaseModel):
    """``p = interp(booster probability, x, y)``: x increasing, y non-decreasing in [0, 1]."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["isotonic"] = "isotonic"
    x: Annotated[list[Finite], Field(min_length=1, max_length=MAX_CALIBRATION_POINTS)]
    y: Annotated[list[Finite], Field(min_length=1, max_length=MAX_CALIBRATION_POINTS)]

    @model_validator(mode="after")
    def _check(self) -> IsotonicCalibration:
        if len(self.x) != len(self.y):
            raise ValueError("x and y hold the same number of points")
        if any(b < a for a, b in zip(self.x, self.x[1:], strict=False)):
            raise ValueError("x is non-decreasing")
        if any(b < a for a, b in zip(self.y, self.y[1:], strict=False)):
            raise ValueError("y is non-decreasing")
        if not all(0.0 <= v <= 1.0 for v in self.y):
            raise ValueError("y lies in [0, 1]")
        return self

    def apply(self, raw: float) -> float:
        return float(np.interp(1.0 / (1.0 + math.exp(-raw)), self.x, self.y))


class PlattCalibration(BaseModel):
    """``p = 1 / (1 + exp(-(a * margin + b)))``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["platt"] = "platt"
    a: Finite
    b: Finite

    def apply(self, raw: float) -> float:
        z = self.a * raw + self.b
        # exp overflows past ~709; the probability is 0 or 1 long before.
        z = max(-500.0, min(500.0, z))
        return 1.0 / (1.0 + math.exp(-z))


Calibration = Annotated[IsotonicCalibration | PlattCalibration, Field(discriminator="kind")]


class ModelCard(BaseModel):
    """What the model was trained on and how it did on data it did not train on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    train_from: AwareDatetime
    train_to: AwareDatetime
    label_cutoff: AwareDatetime = Field(
        description="Only verdicts dated at or before it labelled the training rows."
    )
    labels_from: Annotated[str, Field(max_length=200)] = "feedback"
    rows: Annotated[int, Field(ge=0)]
    positives: Annotated[int, Field(ge=0)]
    validation_rows: Annotated[int, Field(ge=0)] = 0
    validation_positives: Annotated[int, Field(ge=0)] = 0
    metrics: Annotated[dict[Annotated[str, Field(max_length=100)], Finite], Field(max_length=50)]
    importances: Annotated[list[tuple[FeatureName, Finite]], Field(max_length=MAX_FEATURES)] = []
    params: Annotated[
        dict[Annotated[str, Field(max_length=100)], str | int | float | bool], Field(max_length=100)
    ] = {}
    notes: Text = ""

    @model_validator(mode="after")
    def _check(self) -> ModelCard:
        if self.train_to < self.train_from:
            raise ValueError("train_to is not before train_from")
        if self.positives > self.rows or self.validation_positives > self.validation_rows:
            raise ValueError("positives are a part of the rows")
        return self


class ArtefactRecord(BaseModel):
    """The artefact's JSON record (the schema ``from_bytes`` checks)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]
    version: Annotated[str, Field(pattern=r"^[0-9a-f]{12}$")]
    created_at: AwareDatetime
    library: Annotated[str, Field(pattern=r"^lightgbm [0-9][0-9A-Za-z.+\-]{0,30}$")]
    features: Annotated[tuple[FeatureName, ...], Field(min_length=1, max_length=MAX_FEATURES)]
    booster: Annotated[str, Field(min_length=1, max_length=MAX_ARTEFACT_BYTES)]
    calibration: Calibration
    card: ModelCard
    # None in records made before thresholds existed (and left out of their JSON).
    thresholds: DecisionThresholds | None = None
    # A random forest averaged with the booster; None (and left out) without one.
    forest: Annotated[str, Field(min_length=1, max_length=MAX_ARTEFACT_BYTES)] | None = None

    @model_validator(mode="after")
    def _check(self) -> ArtefactRecord:
        if len(set(self.features)) != len(self.features):
            raise ValueError("features are named once each")
        return self


def plain_record(record: ArtefactRecord) -> dict[str, Any]:
    """The record as JSON values, without the optional fields it does not have: a record
    made before a field existed keeps its bytes and so its version."""
    unset = {name for name in ("thresholds", "forest") if getattr(record, name) is None}
    plain: dict[str, Any] = orjson.loads(record.model_dump_json(exclude=unset))
    return plain


def content_version(body: dict[str, Any]) -> str:
    """sha256[:12] of everything in the record but ``version``, keys sorted: the same
    content has the same version wherever it is computed."""
    content = {key: value for key, value in body.items() if key != "version"}
    digest = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()[:12]


def _load_booster(text: str, features: Sequence[str]) -> lgb.Booster:
    # LightGBM's own parser reads the text; a cheap look first keeps obvious garbage
    # (and other model formats) away from the C++ code.
    if not text.startswith("tree\n") or "end of trees" not in text:
        raise ValueError("booster: not a LightGBM model text")
    header = text.split("\nTree=", 1)[0]
    if "\nobjective=binary" not in header:
        raise ValueError("booster: not a binary classifier (objective=binary)")
    try:
        booster = lgb.Booster(model_str=text)
        count = booster.num_feature()
        names = booster.feature_name()
        trees = booster.num_trees()
    except Exception as error:  # LightGBMError, and anything the parser trips on
        raise ValueError(f"booster: LightGBM cannot read it: {str(error)[:200]}") from None
    if count != len(features):
        raise ValueError(f"booster: {count} features, the artefact names {len(features)}")
    if list(names) != list(features):
        raise ValueError("booster: its feature names differ from the artefact's features")
    if trees < 1:
        raise ValueError("booster: no trees")
    return booster


class ModelArtefact:
    """A loaded, checked model: ``probability(row)`` is the calibrated probability of
    fraud for one feature row (in ``features`` order; NaN for unknown)."""

    __slots__ = ("_booster", "_forest", "_record")

    def __init__(
        self, record: ArtefactRecord, booster: lgb.Booster, forest: lgb.Booster | None = None
    ) -> None:
        self._record = record
        self._booster = booster
        self._forest = forest

    @classmethod
    def build(
        cls,
        *,
        model_id: str,
        created_at: datetime,
        features: Sequence[str],
        booster: str,
        calibration: IsotonicCalibration | PlattCalibration,
        card: ModelCard,
        thresholds: DecisionThresholds | None = None,
        forest: str | None = None,
    ) -> ModelArtefact:
        """A new artefact; its version is computed from its content."""
        body: dict[str, Any] = {
            "model_id": model_id,
            "version": "0" * 12,
            "created_at": created_at,
            "library": f"lightgbm {lgb.__version__}",
            "features": list(features),
            "booster": booster,
            "calibration": calibration,
            "card": card,
            "thresholds": thresholds,
            "forest": forest,
        }
        plain = plain_record(ArtefactRecord.model_validate(body))
        plain["version"] = content_version(plain)
        return cls.from_dict(plain)

    @classmethod
    def from_bytes(cls, raw: bytes | bytearray | memoryview | str) -> ModelArtefact:
        size = len(raw.encode() if isinstance(raw, str) else bytes(raw))
        if size > MAX_ARTEFACT_BYTES:
            raise ValueError(f"artefact is {size} bytes, the limit is {MAX_ARTEFACT_BYTES}")
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise ValueError(f"artefact is not JSON: {error}") from None
        return cls.from_dict(body)

    @classmethod
    def from_dict(cls, body: Any) -> ModelArtefact:
        """An artefact from its decoded JSON (as it sits inside a ``risk.models`` value)."""
        if not isinstance(body, dict):
            raise ValueError("artefact is not a JSON object")
        try:
            record = ArtefactRecord.model_validate(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "artefact"
            raise ValueError(f"artefact: {where}: {first['msg']}") from None
        expected = content_version(plain_record(record))
        if record.version != expected:
            raise ValueError(
                f"artefact: version {record.version} is not its content's ({expected})"
            )
        booster = _load_booster(record.booster, record.features)
        forest = None if record.forest is None else load_forest(record.forest, record.features)
        artefact = cls(record, booster, forest)
        if not math.isfinite(artefact.probability([math.nan] * len(record.features))):
            raise ValueError("artefact: its score of an empty row is not a number")
        return artefact

    def to_dict(self) -> dict[str, Any]:
        return plain_record(self._record)

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_SORT_KEYS)

    @property
    def record(self) -> ArtefactRecord:
        return self._record

    @property
    def model_id(self) -> str:
        return self._record.model_id

    @property
    def version(self) -> str:
        return self._record.version

    @property
    def features(self) -> tuple[str, ...]:
        return self._record.features

    @property
    def card(self) -> ModelCard:
        return self._record.card

    @property
    def thresholds(self) -> DecisionThresholds | None:
        return self._record.thresholds

    def points(self, probability: float, policy: PointThresholds) -> int:
        """The scorer's 0-100 points for ``probability`` under ``policy``'s thresholds."""
        return model_points(probability, self._record.thresholds, policy)

    def _matrix(self, row: Sequence[float]) -> np.ndarray[Any, np.dtype[np.float64]]:
        if len(row) != len(self._record.features):
            raise ValueError(f"row has {len(row)} values, the model {len(self.features)}")
        return np.asarray(row, dtype=np.float64).reshape(1, -1)

    @property
    def has_forest(self) -> bool:
        return self._forest is not None

    def margin(self, row: Sequence[float]) -> float:
        """The raw score (log-odds) before calibration: the booster's, or with a forest
        the mean of the booster's and the forest's."""
        return float(self._margins(self._matrix(row))[0])

    def _margins(self, matrix: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, Any]:
        out = self._booster.predict(matrix, raw_score=True, num_threads=1)
        margins = np.asarray(out, dtype=np.float64).ravel()
        if self._forest is None:
            return margins
        return averaged(margins, log_odds(forest_probability(self._forest, matrix)))

    def probability(self, row: Sequence[float]) -> float:
        """The calibrated probability of fraud, in [0, 1]."""
        return self._record.calibration.apply(self.margin(row))

    def probabilities(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """``probability`` of many rows at once (offline: one call to each model)."""
        if not rows:
            return []
        matrix = np.asarray(rows, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.features):
            raise ValueError(f"rows hold {len(self.features)} values each")
        apply = self._record.calibration.apply
        return [apply(float(m)) for m in self._margins(matrix)]

    def contribution_values(self, row: Sequence[float]) -> list[float]:
        """Each feature's SHAP value of this row's margin, in log-odds, then the bias:
        they sum to ``margin(row)``. LightGBM's ``pred_contrib``; with a forest, the mean
        of both models' as the margin is (``agents/model_forest``)."""
        matrix = self._matrix(row)
        out = self._booster.predict(matrix, pred_contrib=True, num_threads=1)
        values = np.asarray(out, dtype=np.float64).ravel()
        if self._forest is not None:
            values = averaged(values, in_log_odds(forest_contributions(self._forest, matrix)[0]))
        return [float(value) for value in values]

    def contributions(self, row: Sequence[float], k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` features that moved this row's margin most, strongest by absolute
        value first: the scorer's reasons. With a forest, the booster's share of the
        margin only (half its SHAP values): the forest's full-depth trees cost ~46 ms of
        CPU a row to explain, the booster's ~7 ms; :meth:`contribution_values` has both."""
        if self._forest is None:
            values = self.contribution_values(row)[: len(self.features)]  # the bias left out
        else:
            out = self._booster.predict(self._matrix(row), pred_contrib=True, num_threads=1)
            values = [float(v) / 2 for v in np.asarray(out, dtype=np.float64).ravel()][:-1]
        order = sorted(range(len(values)), key=lambda i: (-abs(values[i]), i))
        return [(self.features[i], float(values[i])) for i in order[:k] if values[i] != 0.0]
