"""What to label next: uncertain texts, spread over the pool, with a floor per predicted class.

``select_batch`` picks ``n`` texts from the model's probabilities:

1. **Uncertainty.** Each text's uncertainty is one minus the mean, over stance and claim
   type, of the margin between its two most probable labels: a text the model nearly
   labels either way on both counts comes first.
2. **Floor per predicted class.** For each label of each task, the most uncertain texts
   predicted as that label are taken first, up to ``floor`` texts per label (counting those
   already taken), so rare claim types are asked for even when the model is sure of
   them. The default floor is ``n / (4 × the number of claim types)``, rounded up, so
   floors take at most about a quarter of a batch of common labels.
3. **Fill by uncertainty**, most uncertain first.

Both passes skip a text whose TF-IDF cosine similarity (character 3–5-grams, the
representation of ``stancekit.near_duplicates``) to a text already taken is at least
``max_similarity``, so a batch never spends labels on rewordings of one sentence. If the
pool runs out of such texts, the batch is completed by uncertainty alone.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..files import atomic_output
from ..labels import TASKS, get_scheme

if TYPE_CHECKING:
    from .units import Unit

DEFAULT_MAX_SIMILARITY = 0.5
"""Texts at least this similar (cosine) to one already taken are skipped: well under the 0.75 of
``stancekit validate``'s near-duplicates, so close paraphrases are skipped too."""


@dataclass(frozen=True)
class Pick:
    """One selected text: its position in the pool, uncertainty, margin per task, and why it was taken."""

    index: int
    uncertainty: float
    margins: dict[str, float]
    reason: str


def default_floor(n: int) -> int:
    """The default number of texts asked for per predicted label in a batch of ``n``."""
    return math.ceil(n / (4 * len(get_scheme().claim_types)))


def margins(probabilities: Sequence[np.ndarray]) -> np.ndarray:
    """An ``(n, tasks)`` array: the gap between the two most probable labels of each task."""
    top_two = [np.sort(p, axis=1)[:, -2:] for p in probabilities]
    return np.stack([top[:, 1] - top[:, 0] for top in top_two], axis=1)


def select_batch(texts: Sequence[str], probabilities: Sequence[np.ndarray], n: int, floor: int | None = None,
                 max_similarity: float = DEFAULT_MAX_SIMILARITY) -> list[Pick]:
    """Choose up to ``n`` of ``texts`` to label next (see the module docstring); ``probabilities`` is
    ``predict_proba`` output (per task, columns in the scheme's label order)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 < max_similarity <= 1:
        raise ValueError(f"max_similarity must be in (0, 1], got {max_similarity}")
    floor = default_floor(n) if floor is None else floor
    gaps = margins(probabilities)
    uncertainty = 1 - gaps.mean(axis=1)
    order = np.argsort(-uncertainty, kind="stable")
    predicted = [p.argmax(axis=1) for p in probabilities]
    chooser = _DiverseChooser(texts, max_similarity)
    scheme = get_scheme()
    for column, task in enumerate(TASKS):
        for label_index, label in enumerate(scheme.labels(task)):
            of_label = order[predicted[column][order] == label_index]
            have = sum(predicted[column][i] == label_index for i in chooser.taken)
            chooser.take(of_label, min(floor - have, n - len(chooser.taken)), f"floor {task}={label}")
    chooser.take(order, n - len(chooser.taken), "uncertainty")
    chooser.take(order, n - len(chooser.taken), "uncertainty (similar texts allowed)", diverse=False)
    return [Pick(int(i), float(uncertainty[i]), {task: float(gaps[i, c]) for c, task in enumerate(TASKS)}, why)
            for i, why in chooser.taken.items()]


class _DiverseChooser:
    """Takes texts in a given order, skipping those too similar to one already taken."""

    def __init__(self, texts: Sequence[str], max_similarity: float) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32)
        try:
            self.vectors = vectorizer.fit_transform(texts)
        except ValueError:  # no text has a 3-gram: nothing is similar to anything
            self.vectors = None
        self.max_similarity = max_similarity
        self.taken: dict[int, str] = {}

    def take(self, candidates: np.ndarray, count: int, reason: str, diverse: bool = True) -> None:
        """Take up to ``count`` of ``candidates``, in order, that are not taken yet (and not too similar)."""
        for index in candidates.tolist():
            if count <= 0:
                return
            if index in self.taken or diverse and self._too_similar(index):
                continue
            self.taken[index] = reason
            count -= 1

    def _too_similar(self, index: int) -> bool:
        if self.vectors is None or not self.taken:
            return False
        similarity = self.vectors[list(self.taken)] @ self.vectors[index].T
        return similarity.max() >= self.max_similarity - 1e-6


def write_suggestions(units: Sequence["Unit"], n: int, output: str | Path, floor: int | None = None,
                      max_similarity: float = DEFAULT_MAX_SIMILARITY) -> Counter:
    """Choose ``n`` of the scored ``units`` and write them as JSON Lines in the order chosen.

    Each record holds the unit's input fields, ``id``, ``doc_id`` and ``text``, and a
    ``suggestion`` field (rank, reason, uncertainty, margins, the model's labels); returns
    how many were chosen for each reason.
    """
    scheme = get_scheme()
    probabilities = [np.array([[unit.scores(task)[label] for label in scheme.labels(task)] for unit in units],
                              dtype=np.float64).reshape(len(units), len(scheme.labels(task))) for task in TASKS]
    picks = select_batch([unit.text for unit in units], probabilities, n, floor, max_similarity)
    with atomic_output(output) as handle:
        for rank, pick in enumerate(picks, 1):
            unit = units[pick.index]
            suggestion = {"rank": rank, "reason": pick.reason, "uncertainty": round(pick.uncertainty, 4),
                          "margins": {task: round(m, 4) for task, m in pick.margins.items()},
                          "model_labels": {task: unit.prediction[task] for task in TASKS},
                          "model": f"{unit.prediction['model']} {unit.prediction['model_version']}"}
            record = {**unit.fields, "id": unit.id, "doc_id": unit.doc_id, "text": unit.text,
                      "suggestion": suggestion}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return Counter(pick.reason.split(" ")[0] for pick in picks)
