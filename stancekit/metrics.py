"""The scores models are selected and evaluated by: macro-F1, per-class scores and calibration error.

A leaf module: model selection (TF-IDF regularisation, transformer early stopping,
ensemble weights) and evaluation reports use the same functions, and importing them loads
nothing of stancekit. scikit-learn computes the F1 scores (imported on first use, so that
scoring with a model never loads it).

Macro-F1 averages over the labels that occur in the gold labels or the predictions (as
scikit-learn's ``f1_score(average="macro")`` does), so a label absent from a small test
file neither helps nor hurts the score.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

CALIBRATION_BINS = 10
"""Equal-width confidence bins of the calibration error and the reliability curve."""


def macro_f1(gold: Sequence, predicted: Sequence) -> float:
    """Macro-F1 over the labels that occur in ``gold`` or ``predicted`` (0.0 for no records)."""
    from sklearn.metrics import f1_score

    labels = sorted(set(gold) | set(predicted))
    if not labels:
        return 0.0
    return float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0))


def per_class_scores(gold: Sequence, predicted: Sequence, labels: Sequence
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 and support (gold count) of each of ``labels``, in that order; 0 where a
    score is undefined (a label never predicted, or absent from the gold labels)."""
    from sklearn.metrics import precision_recall_fscore_support

    if not len(gold):
        zeros = np.zeros(len(labels))
        return zeros, zeros, zeros, zeros.astype(np.int64)
    return precision_recall_fscore_support(gold, predicted, labels=list(labels), zero_division=0)


def confidence_bins(confidence: np.ndarray, bins: int = CALIBRATION_BINS) -> np.ndarray:
    """The bin of each confidence: ``bins`` equal-width bins over [0, 1], a confidence of 1 in the last."""
    return np.minimum((np.asarray(confidence) * bins).astype(int), bins - 1)


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS
                ) -> list[tuple[int, int, float, float]]:
    """Per non-empty confidence bin: (bin, records, mean confidence, share of them right)."""
    which = confidence_bins(confidence, bins)
    return [(b, int(members.sum()), float(confidence[members].mean()), float(correct[members].mean()))
            for b in range(bins) if (members := which == b).any()]


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error: the record-weighted gap between confidence and accuracy per bin."""
    if not len(confidence):
        return 0.0
    gap = sum(count * abs(mean - right) for _, count, mean, right in reliability(confidence, correct, bins))
    return float(gap / len(confidence))
