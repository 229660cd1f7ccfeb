"""The table of model kinds, and model names to loaded models (cached per process).

``MODEL_KINDS`` is the one list of model kinds: the CLI's ``train --model`` choices and
help, ``make_model`` and the ensemble's default members all read it. Adding a kind is
one new module under ``stancekit/classifiers/`` and one line here. Classes are named
by import path, so ``import stancekit`` stays light: torch and transformers load only
when a model that needs them is built or loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from pathlib import Path

from .artifacts import model_kind
from .errors import ModelError
from .paths import models_dir

DEFAULT_MODEL = "ensemble"
"""The shipped model with the best held-out macro-F1 (see README.md, 'Models')."""


@dataclass(frozen=True)
class ModelKind:
    """One kind of model: its class as ``"module:Class"``, a line of help, and whether the
    default ensemble includes it (the first such kind leads the ensemble's weight grid)."""

    target: str
    help: str
    ensemble_member: bool = False


MODEL_KINDS: dict[str, ModelKind] = {
    "transformer": ModelKind("stancekit.classifiers.transformer:TransformerClassifier",
                             "fine-tuned all-MiniLM-L6-v2 (about 10 minutes on 2 CPU cores)", True),
    "tfidf": ModelKind("stancekit.classifiers.tfidf:TfidfClassifier",
                       "word and character n-gram TF-IDF with logistic regression (fast)", True),
    "accurate": ModelKind("stancekit.classifiers.accurate:AccurateClassifier",
                          "all-mpnet-base-v2 fine-tuned through LoRA adapters (hours on 2 CPU cores; use a GPU)"),
    "distilled": ModelKind("stancekit.classifiers.distilled:DistilledClassifier",
                           "a MiniLM student trained on an accurate teacher's probabilities, served through "
                           "ONNX Runtime (fast, no torch at scoring time)"),
    "ensemble": ModelKind("stancekit.classifiers.ensemble:EnsembleClassifier",
                          "trains the ensemble members and combines their probabilities"),
}


def classifier_class(kind: str) -> type:
    """The model class of a model kind listed in ``MODEL_KINDS``."""
    if kind not in MODEL_KINDS:
        raise ModelError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}")
    module, _, name = MODEL_KINDS[kind].target.partition(":")
    return getattr(import_module(module), name)


def make_model(kind: str, seed: int | None = None, **params):
    """Create an unfitted model of ``kind`` with ``params`` (and ``seed`` if the model takes one)."""
    cls = classifier_class(kind)
    if seed is not None and "seed" in cls().get_params(deep=False):
        params.setdefault("seed", seed)
    return cls(**params)


def ensemble_member_kinds() -> list[str]:
    """The kinds an ensemble combines by default, leading member first."""
    return [kind for kind, spec in MODEL_KINDS.items() if spec.ensemble_member]


def shipped_models() -> dict[str, Path]:
    """The shipped models by name."""
    try:
        folder = models_dir()
    except FileNotFoundError:
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if (p / "config.json").is_file()}


def shipped_name(folder: Path) -> str | None:
    """The name of the shipped model stored in ``folder``, or None if it is not a shipped model."""
    folder = Path(folder).resolve()
    return next((name for name, path in shipped_models().items() if path.resolve() == folder), None)


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
def _load_cached(folder: Path, device: str):
    model = classifier_class(model_kind(folder)).load(folder)
    if device != "cpu":
        if "device" not in model.get_params(deep=False):
            raise ModelError(f"{folder.name}: a {model.kind} model runs on the CPU only (device 'cpu')")
        model.set_params(device=device).torch_device()  # refuse a device torch cannot use, now
    return model


def load_model(name_or_path: str | Path = DEFAULT_MODEL, device: str = "cpu"):
    """Load a shipped model by name or a saved model folder, to run on ``device`` ("cpu", or "cuda"
    for the transformer models); each folder is loaded once per process and device."""
    return _load_cached(resolve(name_or_path), device)
