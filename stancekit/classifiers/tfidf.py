"""The TF-IDF baseline: word and character n-grams and one logistic regression per label.

Saved as JSON (settings) and safetensors (n-gram buckets, IDF weights, coefficients),
never as a pickle; prediction is hashing, a sparse matrix product and a softmax.

Explanations are exact (``method: "linear"``): the model's scores are linear in its n-gram
features, so the label's calibrated log-odds against the mean of all labels,
``log p(label) - mean over labels c of log p(c)``, is an intercept term plus one term per
n-gram occurrence (its TF-IDF value times the label's coefficient less the mean
coefficient, over the temperature). Each term goes to the words its n-gram covers, in
proportion to the characters it covers in each (a character n-gram across two words is
shared); terms of n-grams of spaces or punctuation alone are the ``rest``. Word weights,
intercept and rest add up to the log-odds exactly (``linear_attributions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError
from ..labels import TASKS
from ..metrics import macro_f1
from .base import ModelLoader, Scores, TextClassifier, Validation
from .calibration import fit_temperature, softmax
from .explanations import EVIDENCE_TOP_K, Span, evidence_entries, evidence_groups, words
from .hashed_ngrams import HashedCharNgramVectorizer, HashedWordNgramVectorizer

_WEIGHTS_FILE = "weights.safetensors"


class TfidfClassifier(TextClassifier):
    """Word (1–2) and character (2–5) n-gram TF-IDF with logistic regression.

    Parameters are explicit and stored with the model; ``fit`` learns the vocabularies,
    IDF weights and one multinomial logistic regression per task, with balanced class
    weights. Given a validation set, ``fit`` picks each task's regularisation from
    ``C_grid`` by validation macro-F1 (``C_``, per task; without one, ``C`` for every
    task), then calibrates the probabilities with one temperature per task that
    minimises the validation log-loss (``temperature_``; 1 without a validation set).
    Probability targets train each regression on every (text, label) pair weighted by
    its probability, so one-hot targets give exactly the model trained on labels.
    Texts longer than ``max_chars`` are cut to it (and reported as truncated).
    """

    kind = "tfidf"

    def __init__(self, *, word_ngram_range: tuple[int, int] = (1, 2),
                 char_ngram_range: tuple[int, int] = (2, 5), min_df: int = 2,
                 C: float = 10.0, C_grid: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0, 100.0),
                 class_weight: str | None = "balanced",
                 max_iter: int = 3000, max_chars: int = 5000, name: str = "tfidf",
                 version: str = "1.0.0") -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.C = C
        self.C_grid = C_grid
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.max_chars = max_chars
        self.name = name
        self.version = version

    def _vectorizers(self) -> dict:
        return {"word": HashedWordNgramVectorizer(self.word_ngram_range, min_df=self.min_df),
                "char": HashedCharNgramVectorizer(self.char_ngram_range, min_df=self.min_df)}

    def _cut(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        truncated = np.array([len(t) > self.max_chars for t in texts], dtype=bool)
        if truncated.any():
            texts = [t[: self.max_chars] for t in texts]
        return texts, truncated

    def _fit(self, texts: list[str], targets: list[np.ndarray], validation: Validation | None,
             quiet: bool, checkpoint: Path | None = None) -> "TfidfClassifier":
        """Learn vocabularies, IDF weights and the two logistic regressions (see the class doc)."""
        texts, _ = self._cut(texts)
        self.vectorizers_ = self._vectorizers()
        for vectorizer in self.vectorizers_.values():
            vectorizer.fit(texts)
        features = self._features(texts)
        if validation is not None:
            dev_features = self._features(self._cut(validation[0])[0])
            dev_targets = validation[1]
        self.C_, self.coef_, self.intercept_, self.temperature_ = {}, {}, {}, {}
        for column, (task, classes) in enumerate(zip(TASKS, self.classes_)):
            candidates = self.C_grid if validation is not None else (self.C,)
            best = None
            for C in candidates:
                coef, intercept = self._fit_task(features, targets[column], C, classes)
                if validation is None:
                    best = (0.0, C, coef, intercept)
                    break
                f1 = macro_f1(classes[dev_targets[column].argmax(axis=1)],
                              classes[(dev_features @ coef.T + intercept).argmax(axis=1)])
                if best is None or f1 > best[0]:
                    best = (f1, C, coef, intercept)
            _, self.C_[task], self.coef_[task], self.intercept_[task] = best
            self.temperature_[task] = 1.0 if validation is None else fit_temperature(
                np.asarray(dev_features @ self.coef_[task].T) + self.intercept_[task], dev_targets[column])
        return self

    def _fit_task(self, features, targets: np.ndarray, C: float, classes: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Fit one task's logistic regression on every (text, label) pair with a non-zero target
        probability, weighted by it; return its weights in the scheme's label order."""
        from sklearn.linear_model import LogisticRegression

        rows, labels = np.nonzero(targets)
        model = LogisticRegression(C=C, class_weight=self.class_weight, max_iter=self.max_iter)
        model.fit(features[rows], classes[labels], sample_weight=targets[rows, labels])
        order = [list(model.classes_).index(label) if label in model.classes_ else -1
                 for label in classes]
        coef = _rows(model.coef_, order).astype(np.float32)
        intercept = _rows(model.intercept_[:, None], order, fill=-1e4)[:, 0].astype(np.float32)
        return coef, intercept

    def _features(self, texts: list[str]):
        from scipy.sparse import hstack

        return hstack([v.transform(texts) for v in self.vectorizers_.values()], format="csr")

    def _predict_scores(self, texts: list[str]) -> Scores:
        """Label probabilities for ``texts`` (softmax of the linear scores over the temperature)."""
        texts, truncated = self._cut(texts)
        logits = {task: np.tile(self.intercept_[task], (len(texts), 1)) for task in TASKS}
        offset = 0
        for vectorizer in self.vectorizers_.values():
            block = vectorizer.transform(texts)
            for task in TASKS:
                logits[task] += block @ self.coef_[task][:, offset:offset + block.shape[1]].T
            offset += block.shape[1]
        return Scores([softmax(logits[task] / self.temperature_[task]) for task in TASKS], truncated)

    # --- explanations -----------------------------------------------------------------

    def explain(self, texts: Sequence[str], labels: Sequence[dict[str, str]],
                top_k: int = EVIDENCE_TOP_K) -> list[dict]:
        """Exact evidence (``method: "linear"``): each word's share of the label's log-odds (see the module doc)."""
        evidence = []
        for text, attribution in zip(texts, self.linear_attributions(texts, labels)):
            evidence.append({task: evidence_entries(text, a.spans, [(sign, group, float(a.weights[group].sum()))
                                                                    for sign, group in evidence_groups(a.weights, top_k)])
                             for task, a in attribution.items()})
        return [{**item, "method": "linear"} for item in evidence]

    def linear_attributions(self, texts: Sequence[str], labels: Sequence[dict[str, str]]
                            ) -> list[dict[str, "LinearAttribution"]]:
        """Per text and task, the exact split of the label's log-odds over the words of the text."""
        self._check_fitted()
        cut = [text[:self.max_chars] for text in texts]
        label_rows = {task: np.array([list(classes).index(item[task]) for item in labels], dtype=np.int64)
                      for task, classes in zip(TASKS, self.classes_)}
        centered = {task: _centered(self.coef_[task], self.temperature_[task]) for task in TASKS}
        intercepts = {task: _centered(self.intercept_[task][:, None], self.temperature_[task])[:, 0]
                      for task in TASKS}
        rows, starts, ends, terms = [], [], [], {task: [] for task in TASKS}
        offset = 0
        for vectorizer in self.vectorizers_.values():
            found = vectorizer.occurrences(cut)
            rows.append(found.rows)
            starts.append(found.starts)
            ends.append(found.ends)
            for task in TASKS:
                coefficient = centered[task][label_rows[task][found.rows], offset + found.columns]
                terms[task].append(found.weights.astype(np.float64) * coefficient)
            offset += len(vectorizer.buckets_)
        rows, starts, ends = np.concatenate(rows), np.concatenate(starts), np.concatenate(ends)
        terms = {task: np.concatenate(values) for task, values in terms.items()}
        result = []
        for index, text in enumerate(cut):
            mine = np.flatnonzero(rows == index)
            first, last = _original_offsets(text, starts[mine], ends[mine])
            spans = words(text)
            share = _word_shares(spans, first, last, len(text))
            result.append({task: _attribution(labels[index][task], spans, share, terms[task][mine],
                                              float(intercepts[task][label_rows[task][index]]))
                           for task in TASKS})
        return result

    def describe(self) -> str:
        """Architecture and chosen settings, for the model card."""
        return (f"Hashed TF-IDF features of lower-cased word {tuple(self.word_ngram_range)}-grams and "
                f"character {tuple(self.char_ngram_range)}-grams (kept when seen in at least {self.min_df} "
                "training texts), and one multinomial logistic regression per label with "
                f"{self.class_weight or 'no'} class weights; regularisation C ("
                + ", ".join(f"{task} {value:g}" for task, value in self.C_.items())
                + f") chosen on dev from {', '.join(f'{c:g}' for c in self.C_grid)}. Probabilities are "
                "the regressions' softmax outputs divided by a temperature fitted on dev ("
                + ", ".join(f"{task} {t:.2f}" for task, t in self.temperature_.items())
                + "). Stored as safetensors arrays and JSON; loads in milliseconds.")

    def _save_state(self, folder: Path) -> dict:
        from safetensors.numpy import save_file

        tensors = {}
        for name, vectorizer in self.vectorizers_.items():
            tensors[f"buckets.{name}"] = vectorizer.buckets_
            tensors[f"idf.{name}"] = vectorizer.idf_
        tensors.update({f"coef.{task}": self.coef_[task] for task in TASKS})
        tensors.update({f"intercept.{task}": self.intercept_[task] for task in TASKS})
        tensors.update({f"temperature.{task}": np.array([self.temperature_[task]], dtype=np.float32)
                        for task in TASKS})
        save_file(tensors, str(folder / _WEIGHTS_FILE))
        return {"C": self.C_}

    @classmethod
    def _from_saved(cls, folder: Path, config: dict, loader: ModelLoader | None) -> "TfidfClassifier":
        from safetensors.numpy import load_file

        if "C" not in config.get("fitted", {}):
            raise ModelError(f"{folder}: saved by an older stancekit (its config has no fitted C); retrain it")
        model = cls._from_settings(config["settings"], config)
        tensors = load_file(str(folder / _WEIGHTS_FILE))
        model.vectorizers_ = model._vectorizers()
        for name, vectorizer in model.vectorizers_.items():
            vectorizer.set_state(tensors[f"buckets.{name}"], tensors[f"idf.{name}"])
        model.C_ = {task: float(config["fitted"]["C"][task]) for task in TASKS}
        model.coef_ = {task: tensors[f"coef.{task}"] for task in TASKS}
        model.intercept_ = {task: tensors[f"intercept.{task}"] for task in TASKS}
        model.temperature_ = {task: float(tensors[f"temperature.{task}"][0]) for task in TASKS}
        return model


def _rows(matrix: np.ndarray, order: list[int], fill: float = 0.0) -> np.ndarray:
    """Reorder rows to the scheme's label order; labels unseen in training get ``fill``."""
    if matrix.shape[0] == 1:  # binary logistic regression: one row for the second class
        matrix = np.vstack([-matrix, matrix]) / 2
    out = np.full((len(order), matrix.shape[1]), fill, dtype=np.float64)
    for row, index in enumerate(order):
        if index >= 0:
            out[row] = matrix[index]
    return out


# exact evidence ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinearAttribution:
    """One label's log-odds for one text split into word weights, the intercept term and the rest.

    ``weights.sum() + intercept + rest`` equals ``log p(label) - mean(log p)`` of the model's
    probabilities.
    """

    label: str
    spans: list[Span]
    weights: np.ndarray
    intercept: float
    rest: float


def _centered(coef: np.ndarray, temperature: float) -> np.ndarray:
    """Coefficients less their mean over labels, over the temperature (float64)."""
    coef = coef.astype(np.float64)
    return (coef - coef.mean(axis=0, keepdims=True)) / temperature


def _original_offsets(text: str, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map spans in ``text.lower()`` back to ``text`` (lower-casing can lengthen a character, e.g. 'İ')."""
    lengths = [len(character.lower()) for character in text]
    if sum(lengths) == len(text):
        return starts, ends
    origin = np.repeat(np.arange(len(text)), lengths)
    return origin[starts], origin[ends - 1] + 1


@dataclass(frozen=True)
class _Shares:
    """How n-gram occurrences cover words: per covered character, its occurrence, word and share."""

    occurrence: np.ndarray
    word: np.ndarray
    share: np.ndarray
    uncovered: np.ndarray
    """Occurrences that cover no word character."""


def _word_shares(spans: list[Span], starts: np.ndarray, ends: np.ndarray, length: int) -> _Shares:
    word_of_character = np.full(length, -1, dtype=np.int64)
    for number, (start, end) in enumerate(spans):
        word_of_character[start:end] = number
    sizes = ends - starts
    occurrence = np.repeat(np.arange(len(starts)), sizes)
    position = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
    word = word_of_character[position]
    inside = word >= 0
    occurrence, word = occurrence[inside], word[inside]
    covered = np.bincount(occurrence, minlength=len(starts))
    return _Shares(occurrence, word, 1.0 / covered[occurrence], np.flatnonzero(covered == 0))


def _attribution(label: str, spans: list[Span], shares: _Shares, terms: np.ndarray,
                 intercept: float) -> LinearAttribution:
    weights = np.bincount(shares.word, weights=terms[shares.occurrence] * shares.share, minlength=len(spans))
    return LinearAttribution(label, spans, weights, intercept, float(terms[shares.uncovered].sum()))
