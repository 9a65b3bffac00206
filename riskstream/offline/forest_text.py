"""A fitted scikit-learn random forest as LightGBM model text, served by LightGBM.

Why: scikit-learn answers one row in milliseconds (5.7 ms for 100 trees on our rows), far
beyond the scorer's budget, where LightGBM's single-row predict answers the same forest
in tens of microseconds. The forest is written as a LightGBM model of boosting ``rf``
(``average_output``), each leaf holding its tree's class-1 probability. LightGBM's raw
score (``raw_score=True``) is the trees' *sum* (its averaging applies to the transformed
output only, through a sigmoid we do not want), so ``agents/model_forest`` divides it by
the number of trees: that is scikit-learn's ``predict_proba(X)[:, 1]``, a probability,
not a margin, turned into log-odds (clipped) where it meets the booster's margin.

Exactness. scikit-learn casts rows to float32 and compares them with float64 thresholds;
LightGBM compares the float64 row itself. Each threshold ``t`` is therefore rewritten as
the float64 ``L`` with ``x <= L`` exactly when ``float32(x) <= t``: ``T``, the largest
float32 not above ``t``, is what matters, and a float64 rounds to a float32 at most
``T`` when it lies below the midpoint of ``T`` and the next float32 (at the midpoint,
ties go to the even one). Missing values: scikit-learn sends NaN where
``tree_.missing_go_to_left`` says; LightGBM's NaN missing type with its default-left bit
does the same (its other missing types would read NaN as 0).

SHAP contributions: LightGBM's ``pred_contrib`` sums over the trees too, and is divided
the same way; the counts
TreeSHAP weighs paths by are the trees' bootstrap sample counts (the weighted node
sizes), as scikit-learn's own fitted trees hold them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.ensemble import RandomForestClassifier

# LightGBM's decision_type bits: 2 sends missing values left, 8 makes NaN the missing type.
_DEFAULT_LEFT = 2
_MISSING_NAN = 8
# The largest float64 stands for scikit-learn's infinite threshold ("every present value
# goes left"): LightGBM's parser takes finite numbers only.
_LARGEST = float(np.finfo(np.float64).max)


def float32_threshold(threshold: float) -> float:
    """The float64 ``L`` with ``x <= L`` exactly when ``float32(x) <= threshold``."""
    if math.isnan(threshold):
        raise ValueError("a NaN threshold")
    if threshold == math.inf:
        return _LARGEST
    below = np.float32(threshold)
    if float(below) > threshold:
        below = np.nextafter(below, np.float32(-np.inf))
    if below == np.float32(np.inf):  # a threshold past the largest float32
        return _LARGEST
    above = np.nextafter(below, np.float32(np.inf))
    # Past the largest float32 a float64 rounds to infinity at 2**128 (the next power).
    upper = 2.0**128 if math.isinf(above) else float(above)
    lower = float(below)
    midpoint = lower + (upper - lower) / 2  # exact: one more bit than a float32 holds
    even = int(np.asarray(below, dtype=np.float32).view(np.uint32)) % 2 == 0
    return midpoint if even else float(np.nextafter(midpoint, -np.inf))


def _number(value: float) -> str:
    return repr(float(value))


def _tree_text(index: int, tree: Any) -> str:
    """One scikit-learn tree (``estimator.tree_``) as LightGBM's ``Tree=`` block."""
    left, right = tree.children_left, tree.children_right
    counts = tree.weighted_n_node_samples
    value = tree.value[:, 0, :]
    share = value[:, 1] / value.sum(axis=1)  # the class-1 probability of each node
    internal = [node for node in range(tree.node_count) if left[node] != -1]
    leaves = [node for node in range(tree.node_count) if left[node] == -1]
    if not internal:
        # LightGBM reads a one-leaf tree as a constant; it keeps no split arrays.
        return (
            f"Tree={index}\nnum_leaves=1\nnum_cat=0\nsplit_feature=\nsplit_gain=\n"
            f"threshold=\ndecision_type=\nleft_child=\nright_child=\n"
            f"leaf_value={_number(share[0])}\nleaf_weight=\nleaf_count=\n"
            f"internal_value=\ninternal_weight=\ninternal_count=\nis_linear=0\nshrinkage=1\n"
        )
    internal_id = {node: number for number, node in enumerate(internal)}
    leaf_id = {node: number for number, node in enumerate(leaves)}

    def child(node: int) -> str:
        return str(internal_id[node]) if node in internal_id else str(~leaf_id[node])

    missing_left = getattr(tree, "missing_go_to_left", np.zeros(tree.node_count, dtype=bool))
    gains = []
    for node in internal:
        drop = counts[node] * tree.impurity[node]
        drop -= counts[left[node]] * tree.impurity[left[node]]
        drop -= counts[right[node]] * tree.impurity[right[node]]
        gains.append(max(0.0, float(drop)))
    decision = [_MISSING_NAN | (_DEFAULT_LEFT if missing_left[node] else 0) for node in internal]
    fields: list[tuple[str, list[Any]]] = [
        ("num_leaves", [len(leaves)]),
        ("num_cat", [0]),
        ("split_feature", [int(tree.feature[node]) for node in internal]),
        ("split_gain", [_number(g) for g in gains]),
        ("threshold", [_number(float32_threshold(tree.threshold[n])) for n in internal]),
        ("decision_type", decision),
        ("left_child", [child(left[node]) for node in internal]),
        ("right_child", [child(right[node]) for node in internal]),
        ("leaf_value", [_number(share[node]) for node in leaves]),
        ("leaf_weight", [_number(counts[node]) for node in leaves]),
        ("leaf_count", [round(counts[node]) for node in leaves]),
        ("internal_value", [_number(share[node]) for node in internal]),
        ("internal_weight", [_number(counts[node]) for node in internal]),
        ("internal_count", [round(counts[node]) for node in internal]),
        ("is_linear", [0]),
        ("shrinkage", [1]),
    ]
    lines = [f"{name}={' '.join(str(item) for item in items)}" for name, items in fields]
    return f"Tree={index}\n" + "\n".join(lines) + "\n"


def forest_text(forest: RandomForestClassifier, feature_names: Sequence[str]) -> str:
    """``forest`` (fitted, two classes: 0 and 1) as LightGBM model text of boosting
    ``rf``, as LightGBM itself writes it (read back and written out once)."""
    if list(forest.classes_) != [0, 1]:
        raise ValueError(f"the forest's classes are {list(forest.classes_)}, not [0, 1]")
    if forest.n_features_in_ != len(feature_names):
        raise ValueError(f"the forest has {forest.n_features_in_} features, "
                         f"{len(feature_names)} names given")  # fmt: skip
    header = [
        "tree",
        "version=v4",
        "num_class=1",
        "num_tree_per_iteration=1",
        "label_index=0",
        f"max_feature_idx={len(feature_names) - 1}",
        "objective=binary sigmoid:1",
        "average_output",
        f"feature_names={' '.join(feature_names)}",
        f"feature_infos={' '.join(['[-inf:inf]'] * len(feature_names))}",
    ]
    trees = [_tree_text(i, estimator.tree_) for i, estimator in enumerate(forest.estimators_)]
    text = "\n".join(header) + "\n\n" + "\n".join(trees) + "\nend of trees\n"
    return str(lgb.Booster(model_str=text).model_to_string())
