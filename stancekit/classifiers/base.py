"""The interface every stancekit model meets: a scikit-learn estimator with two outputs.

A model predicts two labels per text (``stance`` and ``claim_type``), like a
multi-output scikit-learn classifier: ``predict`` returns an ``(n, 2)`` array of
label names and ``predict_proba`` a list of two ``(n, n_labels)`` arrays whose
columns follow ``classes_``. Models follow scikit-learn's estimator protocol:
``get_params``, ``set_params``, ``sklearn.base.clone`` and ``check_is_fitted`` work,
constructor parameters are never changed by ``fit`` (learned values end in ``_``), and an
unfitted model raises ``sklearn.exceptions.NotFittedError``. The protocol is written out
here instead of inherited from ``sklearn.base.BaseEstimator``: importing scikit-learn
takes 1–3.5 s on two cores (measured), more than the whole cold start of the distilled
model, which scores without it.

Targets: ``fit`` takes either labels, an ``(n, 2)`` array of (stance, claim_type)
names, or probabilities, a list of one ``(n, n_labels)`` array per task with columns in
``classes_`` order (the format of ``predict_proba``), for distillation or label
smoothing. Both reach the models as per-task probability arrays (labels one-hot).

Every model explains its predictions (``explain``: by occlusion unless a model kind does
better) and is saved in the folder layout of ``stancekit.artifacts``. A model that the
registry's cache hands to every caller is marked ``shared``: fitting it or setting its
parameters would change every other caller's model, so both are refused.
"""

from __future__ import annotations

import inspect
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Sequence

import numpy as np

from ..artifacts import (CARD_FILE, CONFIG_FILE, is_model_folder, model_digest, model_files, read_config,
                         write_json, write_manifest)
from ..errors import ModelError
from ..files import atomic_folder
from ..labels import TASKS, get_scheme
from .explanations import EVIDENCE_TOP_K, occlusion_evidence

_ROW_SUM_TOLERANCE = 1e-5

Validation = tuple[list[str], list[np.ndarray]]
"""Held-out texts and their per-task target probabilities."""
ModelLoader = Callable[[str | Path], "TextClassifier"]
"""Loads a saved model by shipped name or folder: how a model made of other saved models (an
ensemble) loads them. ``stancekit.load_model`` hands in itself, so that a model used alone and as a
part is loaded once; the classifiers never import the registry."""


@dataclass
class Scores:
    """Label probabilities for a batch of texts, and which texts were cut to fit the model."""

    probabilities: list[np.ndarray]
    truncated: np.ndarray


def check_texts(texts: Sequence[str], offset: int = 0) -> list[str]:
    """Return ``texts`` as a list, raising TypeError naming the type and position (counted from
    ``offset``) of any non-string item."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"expected a sequence of str, got a single {type(texts).__name__}")
    checked = list(texts)
    for index, text in enumerate(checked):
        if not isinstance(text, str):
            raise TypeError(f"text at position {offset + index} is of type {type(text).__name__}, expected str")
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


def _is_probabilities(Y) -> bool:
    return (isinstance(Y, (list, tuple)) and len(Y) == len(TASKS)
            and all(np.ndim(task_targets) == 2 for task_targets in Y))


def target_probabilities(Y, n_texts: int) -> list[np.ndarray]:
    """Per-task ``(n, n_labels)`` float64 target probabilities from labels (one-hot) or probabilities.

    Raises ValueError for a wrong number of rows or columns, negative or non-finite
    values, or rows that do not sum to 1.
    """
    scheme = get_scheme()
    if not _is_probabilities(Y):
        Y = labels_matrix(Y)
        if len(Y) != n_texts:
            raise ValueError(f"Y has {len(Y)} rows for {n_texts} texts")
        return [(Y[:, [column]] == np.array(scheme.labels(task), dtype=object)).astype(np.float64)
                for column, task in enumerate(TASKS)]
    targets = []
    for task, task_targets in zip(TASKS, Y):
        task_targets = np.asarray(task_targets, dtype=np.float64)
        expected = (n_texts, len(scheme.labels(task)))
        if task_targets.shape != expected:
            raise ValueError(f"{task} target probabilities must have shape {expected} (one column per "
                             f"label, in classes_ order), got {task_targets.shape}")
        if not np.isfinite(task_targets).all() or (task_targets < 0).any():
            raise ValueError(f"{task} target probabilities must be finite and non-negative")
        sums = task_targets.sum(axis=1)
        wrong = np.flatnonzero(np.abs(sums - 1) > _ROW_SUM_TOLERANCE)
        if len(wrong):
            raise ValueError(f"{task} target probabilities must sum to 1 in every row; "
                             f"row {wrong[0]} sums to {sums[wrong[0]]:.6g}")
        targets.append(task_targets)
    return targets


class TextClassifier(ABC):
    """Base class of stancekit models: predicts a stance and a claim type for each text.

    Subclasses set ``kind``, implement ``_fit``, ``_predict_scores``, ``_save_state``
    and ``_from_saved``; this class supplies target checking, prediction, saving and
    loading. Every constructor parameter is stored under its own name, unchanged. A
    loaded model knows its folder (``loaded_from_``) and the SHA-256 of the folder's
    manifest (``manifest_sha256_``); fitting it again forgets both.
    """

    kind: ClassVar[str]
    name: str
    version: str
    _estimator_type: ClassVar[str] = "classifier"

    # --- scikit-learn's estimator protocol ----------------------------------------------

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The names of the constructor's parameters, sorted (as scikit-learn lists them)."""
        parameters = inspect.signature(cls.__init__).parameters.values()
        return sorted(p.name for p in parameters if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters and their values (``deep`` is accepted for scikit-learn's sake)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params) -> "TextClassifier":
        """Set constructor parameters by name; returns self. An unknown name is a ValueError; a
        ``shared`` model refuses (ModelError)."""
        self._refuse_if_shared("changing its parameters")
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; "
                                 f"valid parameters: {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{name}={value!r}" for name, value in self.get_params().items()
                   if not (isinstance(value, (str, int, float, bool, tuple, type(None))) and value == defaults.get(name))]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        """scikit-learn's description of the estimator (read by its ``clone`` and validation helpers)."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True, multi_output=True),
                    classifier_tags=ClassifierTags(), input_tags=InputTags(one_d_array=True, two_d_array=False,
                                                                           string=True))

    def shared(self, owner: str) -> "TextClassifier":
        """Mark this model as the one instance that ``owner`` (the registry's cache) gives every
        caller; returns self. From then on ``fit`` and ``set_params`` refuse, so that no caller
        changes the model the others use: they work on ``sklearn.base.clone(model)``."""
        self._shared_by = owner
        return self

    def _refuse_if_shared(self, change: str) -> None:
        owner = self.__dict__.get("_shared_by")
        if owner is not None:
            raise ModelError(f"this {self.kind} model is the one {owner} gives every caller, so {change} would "
                             "change theirs too; work on a copy: sklearn.base.clone(model) (unfitted, same "
                             "parameters)")

    def _check_fitted(self, attribute: str | None = None) -> None:
        """Raise scikit-learn's NotFittedError unless the model holds learned values (or ``attribute``)."""
        fitted = (attribute in self.__dict__ if attribute else
                  any(name.endswith("_") and not name.startswith("__") for name in vars(self)))
        if not fitted:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                                 "appropriate arguments before using this estimator.")

    @property
    def classes_(self) -> list[np.ndarray]:
        """The label names of each task, in the column order of ``predict_proba``."""
        scheme = get_scheme()
        return [np.array(scheme.labels(task), dtype=object) for task in TASKS]

    @property
    def scheme_version(self) -> str:
        return get_scheme().version

    def fit(self, X: Sequence[str], Y, validation: tuple[Sequence[str], object] | None = None,
            quiet: bool = False, checkpoint: str | Path | None = None) -> "TextClassifier":
        """Learn from texts ``X`` and their targets ``Y`` (labels or probabilities); returns self.

        ``validation`` is an optional ``(X_dev, Y_dev)`` pair used for model selection
        (hyper-parameters, early stopping, calibration), never for fitting weights.
        ``quiet`` turns progress output off. ``checkpoint`` is a folder where models that
        train in epochs save their state after each one; a fit that finds a checkpoint of
        the same run there (same settings and data) continues from it and ends with the
        model an uninterrupted fit gives. Models that train in one go ignore it.
        """
        self._refuse_if_shared("fitting it")
        texts = check_texts(X)
        targets = target_probabilities(Y, len(texts))
        if validation is not None:
            dev_texts = check_texts(validation[0])
            validation = (dev_texts, target_probabilities(validation[1], len(dev_texts)))
        self._forget_folder()
        return self._fit(texts, targets, validation, quiet, Path(checkpoint) if checkpoint is not None else None)

    def _forget_folder(self) -> None:
        """Drop the record of the folder a model was loaded from (it is being refitted)."""
        self.__dict__.pop("loaded_from_", None)
        self.__dict__.pop("manifest_sha256_", None)

    @abstractmethod
    def _fit(self, texts: list[str], targets: list[np.ndarray], validation: Validation | None,
             quiet: bool, checkpoint: Path | None = None) -> "TextClassifier":
        """Fit on checked texts and per-task target probabilities (``checkpoint``: see ``fit``); returns self."""

    def predict_scores(self, X: Sequence[str]) -> Scores:
        """Return label probabilities for ``X`` and which texts were truncated."""
        self._check_fitted()
        return self._predict_scores(check_texts(X))

    @abstractmethod
    def _predict_scores(self, texts: list[str]) -> Scores:
        """``predict_scores`` for a fitted model and checked texts."""

    def full_precision(self) -> "TextClassifier":
        """This model on its full-precision inference path, sharing its weights (itself when it has one path)."""
        return self

    def explain(self, texts: Sequence[str], labels: Sequence[dict[str, str]],
                top_k: int = EVIDENCE_TOP_K) -> list[dict]:
        """Evidence for the given label of each task (``labels``: one ``{task: label}`` per text, usually
        the predicted ones), one dict per text.

        Each dict holds, per task, a list of ``{"start", "end", "text", "weight"}`` spans (toward
        the label first, strongest first; then against it; weights in log-odds), and ``method``:
        how they were measured. By default by occlusion (deleting words, on ``full_precision``);
        a model kind that can do better overrides this (see ``stancekit.classifiers.explanations``).
        """
        self._check_fitted()
        return occlusion_evidence(self, check_texts(texts), list(labels), top_k)

    def predict_proba(self, X: Sequence[str]) -> list[np.ndarray]:
        """Return ``[stance_probabilities, claim_type_probabilities]`` for ``X``."""
        return self.predict_scores(X).probabilities

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """Return an ``(n, 2)`` array of (stance, claim_type) label names for ``X``."""
        return self.labels_from(self.predict_proba(X))

    def score(self, X: Sequence[str], y, sample_weight=None) -> float:
        """The share of texts whose stance and claim type are both predicted right.

        Subset accuracy, as scikit-learn scores multi-output classifiers; ``y`` takes
        labels or probabilities (scored by their most probable label).
        """
        texts = check_texts(X)
        gold = self.labels_from(target_probabilities(y, len(texts)))
        return float(np.average((self.predict(texts) == gold).all(axis=1), weights=sample_weight))

    def labels_from(self, probabilities: list[np.ndarray]) -> np.ndarray:
        """The ``(n, 2)`` array of most probable (stance, claim_type) labels of ``predict_proba`` output."""
        columns = [classes[p.argmax(axis=1)] for classes, p in zip(self.classes_, probabilities)]
        return np.stack(columns, axis=1) if len(probabilities[0]) else np.empty((0, len(TASKS)), dtype=object)

    def describe(self) -> str:
        """A Markdown paragraph on the model's architecture and settings, for its model card."""
        settings = ", ".join(f"{key}={value}" for key, value in self._settings().items())
        return f"{type(self).__name__} with {settings}."

    def known_limits(self) -> list[str]:
        """Limits of this kind of model, one sentence each, for its model card (beyond those of every model)."""
        return []

    def _settings(self) -> dict:
        """The constructor parameters but ``name`` and ``version`` (stored beside them), as JSON values."""
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in self.get_params(deep=False).items() if key not in ("name", "version")}

    @classmethod
    def _from_settings(cls, settings: dict, config: dict, **params) -> "TextClassifier":
        """An unfitted model with the saved ``settings`` (JSON arrays back to tuples) and ``params``."""
        restored = {key: tuple(value) if isinstance(value, list) else value for key, value in settings.items()}
        return cls(**restored, **params, name=config["name"], version=config["version"])

    @abstractmethod
    def _save_state(self, folder: Path) -> dict:
        """Write the learned state into ``folder`` in safe formats; return the small learned
        values (JSON-able) that ``save`` stores in the config under ``fitted``."""

    @classmethod
    @abstractmethod
    def _from_saved(cls, folder: Path, config: dict, loader: ModelLoader | None) -> "TextClassifier":
        """Rebuild a fitted model from a verified folder and its config (``loader``: see ``load``)."""

    def save(self, folder: str | Path, card: str | None = None, extra: dict | None = None,
             overwrite: bool = False) -> Path:
        """Save the fitted model to ``folder``, with a model card and manifest.

        ``folder`` must be new or empty, or hold a saved model and ``overwrite`` be true;
        any other existing folder is refused and left untouched. Overwriting replaces the
        files of the saved model (those its manifest lists) and keeps every other file in
        the folder; a file of that kind with the name of a file of the new model is refused
        before anything changes. ``extra`` is stored in the config (e.g. held-out scores).
        The model is written beside its destination and renamed into place, so a folder is
        never left half written.
        """
        self._check_fitted()
        folder = Path(folder)
        check_destination(folder, overwrite)
        with atomic_folder(folder, install=_install) as staging:
            fitted = self._save_state(staging)
            write_json(staging / CONFIG_FILE,
                       {"kind": self.kind, "name": self.name, "version": self.version,
                        "scheme_version": self.scheme_version,
                        "labels": {task: list(c) for task, c in zip(TASKS, self.classes_)},
                        "settings": self._settings(), **({"fitted": fitted} if fitted else {}),
                        **(extra or {})})
            if card is not None:
                (staging / CARD_FILE).write_text(card, encoding="utf-8")
            write_manifest(staging)
        return folder

    @classmethod
    def load(cls, folder: str | Path, loader: ModelLoader | None = None) -> "TextClassifier":
        """Load a model saved by ``save``, after verifying its checksums and label scheme.

        ``loader`` loads the saved models this one is made of (an ensemble's members);
        ``stancekit.load_model`` passes itself. A model made of no others ignores it.
        """
        folder = Path(folder)
        config = read_config(folder, expected_kind=cls.kind)
        model = cls._from_saved(folder, config, loader)
        model.loaded_from_ = folder.resolve()
        model.manifest_sha256_ = model_digest(folder)
        return model


def check_destination(folder: Path, overwrite: bool) -> None:
    """Raise ModelError unless ``save`` may write to ``folder``: new, empty, or a model with ``overwrite``.

    A folder that exists and is not a model folder is always refused, so its files are never deleted;
    so is a model folder whose manifest cannot be read (its model's files cannot be told from others).
    """
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ModelError(f"{folder}: exists and is not a folder; choose another output folder")
    if is_model_folder(folder):
        if not overwrite:
            raise ModelError(f"{folder}: already holds a model; to replace it, save with `overwrite`")
        model_files(folder)  # refuses an unreadable manifest now, before any training
    elif any(folder.iterdir()):
        raise ModelError(f"{folder}: exists and is not a stancekit model folder; choose a new or "
                         "empty folder (a folder that is not a model is never replaced)")


def other_files(folder: Path) -> list[str]:
    """The files and folders in a model folder that are not part of its model (notes, analyses, ...),
    as paths relative to it; a folder that holds none of the model's files is listed whole."""
    model = model_files(folder)
    holding = {parent.as_posix() for name in model for parent in Path(name).parents}
    found: list[str] = []

    def walk(directory: Path) -> None:
        for path in sorted(directory.iterdir()):
            relative = path.relative_to(folder).as_posix()
            if relative in model:
                continue
            if relative in holding and path.is_dir() and not path.is_symlink():
                walk(path)
            else:
                found.append(relative)

    walk(folder)
    return found


def _install(staging: Path, folder: Path) -> None:
    """Move ``staging`` to ``folder``, replacing what is there only once the new folder is in place.

    The files of the old model are removed; every other file in ``folder`` moves into the new one.
    One with the name of a file of the new model is refused before anything changes.
    """
    if not folder.exists():
        staging.rename(folder)
        return
    kept = other_files(folder) if is_model_folder(folder) else []  # else empty (check_destination)
    clashes = [name for name in kept if (staging / name).exists()
               or any((staging / parent).is_file() for parent in Path(name).parents)]
    if clashes:
        raise ModelError(f"{folder}: {', '.join(clashes)} is not part of the saved model but has the name of a "
                         "file of the new one; move it away, then save again (nothing was changed)")
    retired = staging.with_name(staging.name + ".old")
    folder.rename(retired)
    try:
        staging.rename(folder)
    except BaseException:
        retired.rename(folder)
        raise
    for name in kept:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (retired / name).rename(folder / name)
    shutil.rmtree(retired)
