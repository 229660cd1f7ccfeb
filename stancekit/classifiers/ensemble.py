"""An ensemble of stancekit models: a weighted geometric mean of their probabilities.

The shipped ensemble combines the fine-tuned transformer (which reads meaning and
context) with the TF-IDF model (which keys on words and spelling). The weights and one
calibration temperature per task are chosen on the dev split.

Members are referred to, never copied: the ensemble's config names each member, by
shipped model name or by a folder path relative to the ensemble, with the SHA-256 of
the member's manifest. Loading takes the members from the model loader it is given
(``stancekit.load_model`` gives its cache, so a model used alone and in an ensemble is
in memory once) and refuses a member whose manifest no longer matches. Members that are
not shipped models (those trained with the ensemble, for instance) are saved in
``members/NAME/`` inside the ensemble's folder.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Sequence

import numpy as np

from ..artifacts import model_digest, shipped_name
from ..errors import ModelError
from ..labels import TASKS
from ..metrics import macro_f1
from .base import ModelLoader, Scores, TextClassifier, Validation, check_texts, target_probabilities
from .calibration import fit_temperature, softmax

_MEMBERS_FOLDER = "members"


class EnsembleClassifier(TextClassifier):
    """Combine member models: ``log p = sum(weight_m * log p_m)``, renormalised, over a temperature.

    ``members`` maps a name to a model (``stancekit.registry.make_model("ensemble", seed=...)``
    gives one model of each kind that ``registry.MODEL_KINDS`` marks as an ensemble member, made
    with the ensemble's ``seed``). ``fit``
    fits a clone of every member on the training data (``members_``), then chooses the
    weights (the first member's from ``weight_grid``, the others sharing what is left
    equally) by dev mean macro-F1 and fits the temperatures on dev. ``combine`` does the
    choosing alone, for members that are already fitted.
    """

    kind = "ensemble"

    def __init__(self, *, members: dict[str, TextClassifier] | None = None,
                 weight_grid: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8), seed: int = 13,
                 name: str = "ensemble", version: str = "1.0.0") -> None:
        self.members = members
        self.weight_grid = weight_grid
        self.seed = seed
        self.name = name
        self.version = version

    def _fit(self, texts: list[str], targets: list[np.ndarray], validation: Validation | None,
             quiet: bool, checkpoint: Path | None = None) -> "EnsembleClassifier":
        """Fit a clone of every member (each checkpointing in ``checkpoint/NAME``), then choose
        weights and temperatures (needs ``validation``)."""
        from sklearn.base import clone

        if not self.members:
            raise ValueError("an ensemble needs members: pass members={name: model}, or make it with "
                             "stancekit.registry.make_model('ensemble') (one model of each member kind)")
        if validation is None:
            raise ValueError("an ensemble needs a validation set to choose its weights")
        self.members_ = {name: clone(member).fit(texts, targets, validation=validation, quiet=quiet,
                                                 checkpoint=checkpoint / name if checkpoint else None)
                         for name, member in self.members.items()}
        return self._choose(*validation)

    def combine(self, X_dev: Sequence[str], Y_dev) -> "EnsembleClassifier":
        """Choose the weights and temperatures on held-out data, with the fitted ``members`` as they are."""
        self._refuse_if_shared("combining it")
        if self.members is None:
            raise ValueError("combine() needs fitted members: pass members={name: model}")
        for member in self.members.values():
            member._check_fitted()
        texts = check_texts(X_dev)
        targets = target_probabilities(Y_dev, len(texts))
        self._forget_folder()
        self.members_ = dict(self.members)
        return self._choose(texts, targets)

    def _choose(self, texts: list[str], targets: list[np.ndarray]) -> "EnsembleClassifier":
        gold = self.labels_from(targets)
        log_probabilities = {name: _log(member.predict_scores(texts)) for name, member in self.members_.items()}
        best = None
        for weights in self._candidate_weights(list(self.members_)):
            logits = self._combined(log_probabilities, weights)
            predicted = self.labels_from(logits)  # the argmax of the logits is that of the probabilities
            f1 = np.mean([macro_f1(gold[:, column], predicted[:, column]) for column in range(len(TASKS))])
            if best is None or f1 > best[0]:
                best = (f1, weights, logits)
        _, self.weights_, logits = best
        self.temperature_ = {task: fit_temperature(task_logits, task_targets)
                             for task, task_logits, task_targets in zip(TASKS, logits, targets)}
        return self

    def _candidate_weights(self, names: list[str]) -> list[dict[str, float]]:
        if len(names) == 1:
            return [{names[0]: 1.0}]
        lead, rest = names[0], names[1:]
        return [{lead: w, **{name: (1 - w) / len(rest) for name in rest}} for w in self.weight_grid]

    @staticmethod
    def _combined(log_probabilities: dict[str, list[np.ndarray]], weights: dict[str, float]) -> list[np.ndarray]:
        return [sum(weights[name] * log_probabilities[name][task] for name in weights)
                for task in range(len(TASKS))]

    def _predict_scores(self, texts: list[str]) -> Scores:
        """Probabilities from the members' weighted log-probabilities, over each task's temperature."""
        member_scores = {name: self.members_[name].predict_scores(texts) for name in self.weights_}
        log_probabilities = {name: _log(scores) for name, scores in member_scores.items()}
        logits = self._combined(log_probabilities, self.weights_)
        truncated = np.logical_or.reduce([s.truncated for s in member_scores.values()]) \
            if texts else np.zeros(0, dtype=bool)
        return Scores([softmax(task_logits / self.temperature_[task])
                       for task, task_logits in zip(TASKS, logits)], truncated)

    def full_precision(self) -> "EnsembleClassifier":
        """A copy whose members run on their full-precision paths (weights shared)."""
        model = copy.copy(self)
        model.members_ = {name: member.full_precision() for name, member in self.members_.items()}
        return model

    def describe(self) -> str:
        """The members, their weights and the temperatures, for the model card."""
        parts = ", ".join(f"{name} ({member.kind} {member.version}) weight {self.weights_[name]:.2f}"
                          for name, member in self.members_.items())
        return ("A weighted geometric mean of the members' probabilities, renormalised, with one "
                "temperature per task (" + ", ".join(f"{t} {v:.2f}" for t, v in self.temperature_.items())
                + "); weights and temperatures chosen on dev. Members: " + parts
                + ".\n\nMember models:\n\n" + "\n\n".join(f"- {name}: {member.describe()}"
                                                         for name, member in self.members_.items()))

    def known_limits(self) -> list[str]:
        """The limits of every member, each once."""
        members = getattr(self, "members_", self.members) or {}
        return list(dict.fromkeys(limit for member in members.values() for limit in member.known_limits()))

    def _settings(self) -> dict:
        return {key: value for key, value in super()._settings().items() if key != "members"}

    def _save_state(self, folder: Path) -> dict:
        """Refer to shipped members by name; save the others in ``members/NAME/`` and refer to that."""
        references = {}
        for name, member in self.members_.items():
            shipped = shipped_name(member.loaded_from_) if hasattr(member, "loaded_from_") else None
            if shipped is not None:
                references[name] = {"name": shipped, "sha256": member.manifest_sha256_}
                continue
            relative = f"{_MEMBERS_FOLDER}/{name}"
            member.save(folder / relative,
                        card=f"# Member `{name}` of the ensemble `{self.name}`\n\nSee the ensemble's "
                             "MODEL_CARD.md two folders up for its training data and scores.\n")
            references[name] = {"path": relative, "sha256": model_digest(folder / relative)}
        return {"members": references, "weights": self.weights_, "temperature": self.temperature_}

    @classmethod
    def _from_saved(cls, folder: Path, config: dict, loader: ModelLoader | None) -> "EnsembleClassifier":
        """The weights and temperatures from the config, the members from ``loader``."""
        if loader is None:
            raise ModelError(f"{folder}: an ensemble loads its members through a model loader; "
                             "load it with stancekit.load_model")
        try:
            fitted = config["fitted"]
            weights = {name: float(w) for name, w in fitted["weights"].items()}
            temperature = {task: float(fitted["temperature"][task]) for task in TASKS}
            references = {name: (fitted["members"][name]["sha256"],
                                 fitted["members"][name].get("name") or folder / fitted["members"][name]["path"])
                          for name in weights}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"{folder}: unreadable ensemble state in its config ({exc!r})") from None
        members = {name: _load_member(loader, folder, name, target, sha256)
                   for name, (sha256, target) in references.items()}
        model = cls._from_settings(config["settings"], config, members=members)
        model.members_ = members
        model.weights_ = weights
        model.temperature_ = temperature
        return model


def _load_member(loader: ModelLoader, folder: Path, name: str, target: str | Path, sha256: str) -> TextClassifier:
    """Load a member (a shipped model name or a folder) with ``loader``; check its manifest hash."""
    try:
        member = loader(target)
    except ModelError as exc:
        raise ModelError(f"{folder}: ensemble member {name!r}: {exc}") from None
    if member.manifest_sha256_ != sha256:
        raise ModelError(f"{folder}: ensemble member {name!r} ({target}) has changed since the ensemble was "
                         f"saved: expected manifest SHA-256 {sha256}, found {member.manifest_sha256_}; "
                         "retrain the ensemble or restore the member")
    return member


def _log(scores: Scores) -> list[np.ndarray]:
    """The log of a member's probabilities, floored so a zero probability stays finite."""
    return [np.log(p + 1e-9) for p in scores.probabilities]
