"""The shipped model: logistic-regression weights over scoring.features, kept as a small JSON file.

A JSON file of numbers (not a pickle) loads without scikit-learn, cannot run code, and diffs readably;
`python -m sentiment.train` rebuilds it. Without the file the rule-only polarity is used.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODEL_FILE = Path(__file__).with_name("model.json")


@dataclass(frozen=True)
class Weights:
    """Coefficients of a logistic regression; no coefficients means the rule-only polarity."""

    coefficients: tuple[float, ...] = ()
    intercept: float = 0.0
    mean: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()

    def polarity(self, features: list[float]) -> float:
        """-1..1: twice the probability of "positive", minus one."""
        if not self.coefficients:
            return features[-1]
        z = self.intercept
        for x, w, m, s in zip(features, self.coefficients, self.mean, self.scale, strict=True):
            z += w * (x - m) / s
        z = max(-30.0, min(30.0, z))
        return 2.0 / (1.0 + math.exp(-z)) - 1.0


@cache
def load(path: Path = MODEL_FILE) -> Weights:
    """The weights in `path` (the shipped model by default), or rule-only weights when there is none."""
    if not path.exists():
        return Weights()
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Weights(
        coefficients=tuple(raw["coefficients"]),
        intercept=float(raw["intercept"]),
        mean=tuple(raw["mean"]),
        scale=tuple(raw["scale"]),
    )
