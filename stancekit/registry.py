"""The table of model kinds, and model names to loaded models (cached per process).

``MODEL_KINDS`` is the one list of model kinds: the CLI's ``train --model`` choices and
help, ``make_model`` and the ensemble's default members all read it. Adding a kind is
one new module under ``stancekit/classifiers/`` and one line here. Classes are named
by import path, so ``import stancekit`` stays light: torch and transformers load only
when a model that needs them is built or loaded.

``load_model`` loads each model folder once per process and device and gives every caller
that one instance (while any caller holds it), marked ``shared``: fitting it or setting its
parameters is refused (it would change every other caller's model, an ensemble's members
included); fit ``sklearn.base.clone(model)`` instead. ``identify`` names a model (name, version, labels,
manifest hash) from its folder without loading its weights.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from weakref import WeakValueDictionary

from .artifacts import model_digest, model_kind, read_config, shipped_models, shipped_name
from .errors import ModelError
from .labels import TASKS

DEFAULT_MODEL = "distilled"
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
                          "all-mpnet-base-v2 fine-tuned through LoRA adapters (about 25 minutes on 2 idle CPU cores)"),
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
    """Create an unfitted model of ``kind`` with ``params`` (and ``seed`` if the model takes one).

    A kind made of member models (the ensemble) gets ``default_members(seed)`` unless
    ``params`` gives its members.
    """
    cls = classifier_class(kind)
    accepted = cls().get_params(deep=False)
    if seed is not None and "seed" in accepted:
        params.setdefault("seed", seed)
    if "members" in accepted and params.get("members") is None:
        params["members"] = default_members(params.get("seed"))
    return cls(**params)


def default_members(seed: int | None = None) -> dict:
    """An unfitted model of each kind an ensemble combines by default, by kind, leading member first."""
    return {kind: make_model(kind, seed=seed) for kind in ensemble_member_kinds()}


def ensemble_member_kinds() -> list[str]:
    """The kinds an ensemble combines by default, leading member first."""
    return [kind for kind, spec in MODEL_KINDS.items() if spec.ensemble_member]


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


KEPT_MODELS = 8
"""Loaded models kept in memory when no caller holds them, the most recently used."""
_live: WeakValueDictionary = WeakValueDictionary()
"""Every loaded model still in use, by (folder, device): one instance each."""
_recent: OrderedDict = OrderedDict()
"""The ``KEPT_MODELS`` models used last, held so that they stay loaded."""


def load_model(name_or_path: str | Path = DEFAULT_MODEL, device: str = "cpu"):
    """Load a shipped model by name or a saved model folder, to run on ``device`` ("cpu", or "cuda"
    for the transformer models).

    Every caller gets the same (shared) instance of a folder and device as long as any of them
    holds it, an ensemble holding its members included; the ``KEPT_MODELS`` used last stay
    loaded when no one does.
    """
    key = (resolve(name_or_path), device)
    model = _live.get(key)
    if model is None:
        model = _live[key] = _load(*key)
    _recent[key] = model
    _recent.move_to_end(key)
    while len(_recent) > KEPT_MODELS:
        _recent.popitem(last=False)
    return model


def _load(folder: Path, device: str):
    """A model loaded from ``folder`` onto ``device`` (its members through ``load_model``), marked shared."""
    model = classifier_class(model_kind(folder)).load(folder, loader=load_model)
    if device != "cpu":
        if "device" not in model.get_params(deep=False):
            raise ModelError(f"{folder.name}: a {model.kind} model runs on the CPU only (device 'cpu')")
        model.set_params(device=device).torch_device()  # refuse a device torch cannot use, now
    return model.shared(f"load_model({_reference(folder)!r})")


@dataclass(frozen=True)
class ModelIdentity:
    """What names a saved model, read from its folder without loading its weights."""

    folder: Path
    reference: str
    """How another process finds the model: a shipped model's name, else its folder's absolute path."""
    name: str
    version: str
    classes: list[list[str]]
    """The label names of each task, in the order models report them."""
    manifest_sha256: str


def identify(name_or_path: str | Path) -> ModelIdentity:
    """The identity of a shipped model name or model folder, from its config and manifest (the
    config's kind and label scheme are checked; the weights are verified when the model loads)."""
    folder = resolve(name_or_path)
    config = read_config(folder, verify=False)
    return ModelIdentity(folder, _reference(folder), config["name"], config["version"],
                         [list(config["labels"][task]) for task in TASKS], model_digest(folder))


def _reference(folder: Path) -> str:
    """A shipped model's name, else the folder's absolute path."""
    return shipped_name(folder) or str(Path(folder).resolve())
