"""Probabilities from linear scores: softmax, and temperature scaling fitted on held-out data."""

from __future__ import annotations

import numpy as np


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of an ``(n, k)`` array, as float32."""
    scores = scores - scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    return (scores / scores.sum(axis=1, keepdims=True)).astype(np.float32)


RECORDS_PER_LABEL = 5
"""How many records per label a train or dev split should hold, on average, for the largest label
set (``minimum_split_records``).

Five is the fewest at which every label can appear a few times. Below it a temperature follows
the handful of dev records it is fitted on: on a dev split of 6 records that the model got right,
the fitted temperature fell to 0.07, and the model then gave 0.93-1.00 confidence to every text."""


def minimum_split_records() -> int:
    """The fewest records a train or dev split should have: ``RECORDS_PER_LABEL`` for each label of
    the label scheme's largest label set (claim type: 10 labels, so 50 records). With fewer dev
    records, ``fit_temperature`` leaves the probabilities uncalibrated."""
    from ..labels import TASKS, get_scheme

    scheme = get_scheme()
    return RECORDS_PER_LABEL * max(len(scheme.labels(task)) for task in TASKS)


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """The temperature ``T`` that minimises the cross-entropy of ``softmax(logits / T)`` against
    ``targets``, an ``(n, k)`` array of target probabilities (one-hot for labels); 1 (no calibration)
    for fewer than ``minimum_split_records()`` records, too few to fit it on.

    Dividing by one scalar never changes which label is predicted; it only makes the
    probabilities match how often the predictions are right.
    """
    from scipy.optimize import minimize_scalar

    if len(logits) < minimum_split_records():
        return 1.0
    logits = np.asarray(logits, dtype=np.float64)

    def log_loss(temperature: float) -> float:
        return float(-(targets * np.log(softmax(logits / temperature) + 1e-12)).sum(axis=1).mean())

    return float(minimize_scalar(log_loss, bounds=(0.05, 20.0), method="bounded").x)
