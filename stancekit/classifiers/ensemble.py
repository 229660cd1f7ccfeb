"""An ensemble of stancekit models: a weighted geometric mean of their probabilities.

The shipped ensemble combines the fine-tuned transformer (which reads meaning and
context) with the TF-IDF model (which keys on words and spelling). The weights and one
calibration temperature per task are chosen on the dev split; each member is saved,
whole, in a sub-folder, so an ensemble folder is self-contained.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError
from ..labels import TASKS
from .base import Scores, TextClassifier, check_texts, labels_matrix
from .calibration import fit_temperature, softmax

_STATE_FILE = "ensemble.json"
_MEMBERS_FOLDER = "members"


class EnsembleClassifier(TextClassifier):
    """Combine member models: ``log p = sum(weight_m * log p_m)``, renormalised, over a temperature.

    ``members`` maps a name to an (unfitted or fitted) model; by default a TF-IDF model and a
    transformer. ``fit`` fits every member on the training data, then ``combine`` chooses
    the members' weights (the transformer's weight from ``weight_grid``, the rest sharing
    what is left equally) by dev mean macro-F1 and fits the temperatures on dev.
    """

    kind = "ensemble"

    def __init__(self, *, members: dict[str, TextClassifier] | None = None,
                 weight_grid: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
                 name: str = "ensemble", version: str = "1.0.0") -> None:
        self.members = members
        self.weight_grid = tuple(weight_grid)
        self.name = name
        self.version = version

    def _members(self) -> dict[str, TextClassifier]:
        if self.members is None:
            from .tfidf import TfidfClassifier
            from .transformer import TransformerClassifier

            self.members = {"transformer": TransformerClassifier(), "tfidf": TfidfClassifier()}
        return self.members

    def fit(self, X: Sequence[str], Y, validation: tuple[Sequence[str], object] | None = None,
            quiet: bool = False) -> "EnsembleClassifier":
        """Fit every member, then choose weights and temperatures (needs ``validation``)."""
        if validation is None:
            raise ValueError("an ensemble needs a validation set to choose its weights")
        for member in self._members().values():
            member.fit(X, Y, validation=validation, quiet=quiet)
        return self.combine(*validation)

    def combine(self, X_dev: Sequence[str], Y_dev) -> "EnsembleClassifier":
        """Choose the weights and temperatures on held-out data, with the members as they are."""
        from sklearn.metrics import f1_score

        texts, Y_dev = check_texts(X_dev), labels_matrix(Y_dev)
        members = self._members()
        log_probabilities = {name: _log(member.score(texts)) for name, member in members.items()}
        best = None
        for weights in self._candidate_weights(list(members)):
            logits = self._combined(log_probabilities, weights)
            predicted = self.labels_from(logits)  # the argmax of the logits is that of the probabilities
            f1 = np.mean([f1_score(Y_dev[:, column], predicted[:, column], average="macro", zero_division=0)
                          for column in range(len(TASKS))])
            if best is None or f1 > best[0]:
                best = (f1, weights, logits)
        _, self.weights_, logits = best
        self.temperature_ = {task: fit_temperature(logits[column], Y_dev[:, column], classes)
                             for column, (task, classes) in enumerate(zip(TASKS, self.classes_))}
        return self

    def _candidate_weights(self, names: list[str]) -> list[dict[str, float]]:
        if len(names) == 1:
            return [{names[0]: 1.0}]
        lead = "transformer" if "transformer" in names else names[0]
        rest = [name for name in names if name != lead]
        return [{lead: w, **{name: (1 - w) / len(rest) for name in rest}} for w in self.weight_grid]

    @staticmethod
    def _combined(log_probabilities: dict[str, list[np.ndarray]], weights: dict[str, float]) -> list[np.ndarray]:
        return [sum(weights[name] * log_probabilities[name][task] for name in weights)
                for task in range(len(TASKS))]

    def score(self, X: Sequence[str]) -> Scores:
        """Probabilities from the members' weighted log-probabilities, over each task's temperature."""
        if not hasattr(self, "weights_"):
            raise ModelError("this EnsembleClassifier is not fitted; call fit(), combine() or load()")
        texts = check_texts(X)
        member_scores = {name: self.members[name].score(texts) for name in self.weights_}
        log_probabilities = {name: _log(scores) for name, scores in member_scores.items()}
        logits = self._combined(log_probabilities, self.weights_)
        truncated = np.logical_or.reduce([s.truncated for s in member_scores.values()]) \
            if texts else np.zeros(0, dtype=bool)
        return Scores([softmax(task_logits / self.temperature_[task])
                       for task, task_logits in zip(TASKS, logits)], truncated)

    def describe(self) -> str:
        """The members, their weights and the temperatures, for the model card."""
        parts = ", ".join(f"{name} ({member.kind} {member.version}) weight {self.weights_[name]:.2f}"
                          for name, member in self.members.items())
        return ("A weighted geometric mean of the members' probabilities, renormalised, with one "
                "temperature per task (" + ", ".join(f"{t} {v:.2f}" for t, v in self.temperature_.items())
                + "); weights and temperatures chosen on dev. Members: " + parts
                + ".\n\nMember models:\n\n" + "\n\n".join(f"- {name}: {member.describe()}"
                                                         for name, member in self.members.items()))

    def _settings(self) -> dict:
        return {"weight_grid": list(self.weight_grid)}

    def _save_weights(self, folder: Path) -> None:
        for name, member in self.members.items():
            member.save(folder / _MEMBERS_FOLDER / name,
                        card=f"# Member `{name}` of the ensemble `{self.name}`\n\nSee the ensemble's "
                             "MODEL_CARD.md two folders up for its training data and scores.\n")
        (folder / _STATE_FILE).write_text(json.dumps({"weights": self.weights_, "temperature": self.temperature_},
                                                     indent=2) + "\n", encoding="utf-8")

    @classmethod
    def _from_saved(cls, folder: Path, config: dict) -> "EnsembleClassifier":
        from ..artifacts import model_kind
        from ..registry import classifier_class

        try:
            state = json.loads((folder / _STATE_FILE).read_text(encoding="utf-8"))
            weights, temperature = state["weights"], state["temperature"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{folder / _STATE_FILE}: unreadable ensemble state ({exc})") from None
        members = {}
        for name in weights:
            member_folder = folder / _MEMBERS_FOLDER / name
            members[name] = classifier_class(model_kind(member_folder)).load(member_folder)
        model = cls(members=members, **config["settings"], name=config["name"], version=config["version"])
        model.weights_ = {name: float(w) for name, w in weights.items()}
        model.temperature_ = {task: float(temperature[task]) for task in TASKS}
        return model


def _log(scores: Scores) -> list[np.ndarray]:
    """The log of a member's probabilities, floored so a zero probability stays finite."""
    return [np.log(p + 1e-9) for p in scores.probabilities]
