"""Model names to loaded models: ``tfidf``, ``transformer`` or a model folder, cached per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .artifacts import model_kind
from .errors import ModelError
from .paths import models_dir

DEFAULT_MODEL = "ensemble"
"""The shipped model with the best held-out macro-F1 (see README.md, 'Models')."""


def shipped_models() -> dict[str, Path]:
    """The shipped models by name."""
    try:
        folder = models_dir()
    except FileNotFoundError:
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if (p / "config.json").is_file()}


def classifier_class(kind: str):
    """The model class of a model kind (``tfidf``, ``transformer`` or ``ensemble``)."""
    if kind == "tfidf":
        from .classifiers.tfidf import TfidfClassifier

        return TfidfClassifier
    if kind == "transformer":
        from .classifiers.transformer import TransformerClassifier

        return TransformerClassifier
    if kind == "ensemble":
        from .classifiers.ensemble import EnsembleClassifier

        return EnsembleClassifier
    raise ModelError(f"unknown model kind {kind!r}; expected 'tfidf', 'transformer' or 'ensemble'")


def resolve(name_or_path: str | Path) -> Path:
    """Return the folder of a shipped model name or of a model folder path."""
    shipped = shipped_models()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    path = Path(name_or_path)
    if path.is_dir():
        return path.resolve()
    names = ", ".join(shipped) or "none installed"
    raise ModelError(f"unknown model {str(name_or_path)!r}: not a shipped model ({names}) "
                     "and not a model folder")


@lru_cache(maxsize=8)
def _load_cached(folder: Path):
    return classifier_class(model_kind(folder)).load(folder)


def load_model(name_or_path: str | Path = DEFAULT_MODEL):
    """Load a shipped model by name or a saved model folder; each folder is loaded once per process."""
    return _load_cached(resolve(name_or_path))
