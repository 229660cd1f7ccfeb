"""The small interface every stancekit model meets, in the style of scikit-learn estimators.

A model predicts two labels per text (``stance`` and ``claim_type``), like a
multi-output scikit-learn classifier: ``predict`` returns an ``(n, 2)`` array of
label names and ``predict_proba`` a list of two ``(n, n_labels)`` arrays whose
columns follow ``classes_``.
"""

from __future__ import annotations

import shutil
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np

from ..files import current_umask
from ..artifacts import CARD_FILE, CONFIG_FILE, read_config, write_json, write_manifest
from ..labels import TASKS, get_scheme


@dataclass
class Scores:
    """Label probabilities for a batch of texts, and which texts were cut to fit the model."""

    probabilities: list[np.ndarray]
    truncated: np.ndarray


def check_texts(texts: Sequence[str]) -> list[str]:
    """Return ``texts`` as a list, raising TypeError naming the type of any non-string item."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"expected a sequence of str, got a single {type(texts).__name__}")
    checked = list(texts)
    for index, text in enumerate(checked):
        if not isinstance(text, str):
            raise TypeError(f"text at position {index} is of type {type(text).__name__}, expected str")
    return checked


def labels_matrix(Y) -> np.ndarray:
    """Validate ``Y`` as an ``(n, 2)`` array of (stance, claim_type) label names."""
    Y = np.asarray(Y, dtype=object)
    if Y.ndim != 2 or Y.shape[1] != len(TASKS):
        raise ValueError(f"Y must have shape (n, {len(TASKS)}) with columns {TASKS}, got {Y.shape}")
    scheme = get_scheme()
    for column, task in enumerate(TASKS):
        unknown = set(Y[:, column]) - set(scheme.labels(task))
        if unknown:
            raise ValueError(f"unknown {task} labels: {', '.join(sorted(map(str, unknown)))}")
    return Y


class TextClassifier(ABC):
    """Base class of stancekit models: predicts a stance and a claim type for each text.

    Subclasses set ``kind``, implement ``fit``, ``score``, ``_settings``, ``_save_weights``
    and ``_from_saved``; this class supplies prediction, saving and loading.
    """

    kind: ClassVar[str]
    name: str
    version: str

    @property
    def classes_(self) -> list[np.ndarray]:
        """The label names of each task, in the column order of ``predict_proba``."""
        scheme = get_scheme()
        return [np.array(scheme.labels(task), dtype=object) for task in TASKS]

    @property
    def scheme_version(self) -> str:
        return get_scheme().version

    @abstractmethod
    def fit(self, X: Sequence[str], Y, validation: tuple[Sequence[str], object] | None = None,
            quiet: bool = False) -> "TextClassifier":
        """Learn from texts ``X`` and their ``(n, 2)`` labels ``Y``; returns self.

        ``validation`` is an optional ``(X_dev, Y_dev)`` pair used for model selection
        (hyper-parameters, early stopping), never for fitting weights. ``quiet`` turns
        progress output off.
        """

    @abstractmethod
    def score(self, X: Sequence[str]) -> Scores:
        """Return label probabilities for ``X`` and which texts were truncated."""

    def predict_scores(self, X: Sequence[str]) -> Scores:
        """Return label probabilities for ``X`` and which texts were truncated."""
        return self.score(X)

    def predict_proba(self, X: Sequence[str]) -> list[np.ndarray]:
        """Return ``[stance_probabilities, claim_type_probabilities]`` for ``X``."""
        return self.score(X).probabilities

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """Return an ``(n, 2)`` array of (stance, claim_type) label names for ``X``."""
        return self.labels_from(self.predict_proba(X))

    def labels_from(self, probabilities: list[np.ndarray]) -> np.ndarray:
        """The ``(n, 2)`` array of most probable (stance, claim_type) labels of ``predict_proba`` output."""
        columns = [classes[p.argmax(axis=1)] for classes, p in zip(self.classes_, probabilities)]
        return np.stack(columns, axis=1) if len(probabilities[0]) else np.empty((0, len(TASKS)), dtype=object)

    def describe(self) -> str:
        """A Markdown paragraph on the model's architecture and settings, for its model card."""
        settings = ", ".join(f"{key}={value}" for key, value in self._settings().items())
        return f"{type(self).__name__} with {settings}."

    @abstractmethod
    def _settings(self) -> dict:
        """The constructor parameters needed to rebuild this model, as JSON-able values."""

    @abstractmethod
    def _save_weights(self, folder: Path) -> None:
        """Write the learned state into ``folder`` in safe formats."""

    @classmethod
    @abstractmethod
    def _from_saved(cls, folder: Path, config: dict) -> "TextClassifier":
        """Rebuild a fitted model from a verified folder and its config."""

    def save(self, folder: str | Path, card: str | None = None, extra: dict | None = None) -> Path:
        """Save the fitted model to ``folder`` (replaced whole), with a model card and manifest.

        ``extra`` is stored in the config (e.g. held-out scores). The folder is written
        beside its destination and renamed into place, so it is never left half written.
        """
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            config = {"kind": self.kind, "name": self.name, "version": self.version,
                      "scheme_version": self.scheme_version,
                      "labels": {task: list(c) for task, c in zip(TASKS, self.classes_)},
                      "settings": self._settings(), **(extra or {})}
            write_json(staging / CONFIG_FILE, config)
            self._save_weights(staging)
            if card is not None:
                (staging / CARD_FILE).write_text(card, encoding="utf-8")
            for path in staging.rglob("*"):
                path.chmod((0o777 if path.is_dir() else 0o666) & ~current_umask())
            write_manifest(staging)
            staging.chmod(0o777 & ~current_umask())
            if folder.exists():
                shutil.rmtree(folder)
            staging.rename(folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "TextClassifier":
        """Load a model saved by ``save``, after verifying its checksums and label scheme."""
        folder = Path(folder)
        config = read_config(folder, expected_kind=cls.kind)
        return cls._from_saved(folder, config)
