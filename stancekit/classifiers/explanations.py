"""Why a model gave its labels: the words and phrases that pushed toward them and against them.

For the predicted stance and claim type of each text, ``explain_texts`` returns evidence:
character spans of the text with signed weights, the ``top_k`` strongest toward the label
(positive weights) and against it (negative weights). Adjacent words of one sign that
are both among them are merged into a phrase. Every weight is in log-odds, the label's
``log p(label) - mean over labels c of log p(c)``, rounded to ``EVIDENCE_DECIMALS``; a span
whose weight rounds to zero is left out.

- **TF-IDF** (``method: "linear"``): exact. The model's scores are linear in its n-gram
  features, so the label's calibrated log-odds against the mean of all labels,
  ``log p(label) - mean over labels c of log p(c)``, is an intercept term plus one term
  per n-gram occurrence (its TF-IDF value times the label's coefficient less the mean
  coefficient, over the temperature). Each term goes to the words its n-gram covers, in
  proportion to the characters it covers in each (a character n-gram across two words is
  shared); terms of n-grams of spaces or punctuation alone are the ``rest``. Word weights,
  intercept and rest add up to the log-odds exactly (``linear_attributions``).
- **Any other model** (``method: "occlusion"``): each word is deleted from the text in
  turn (``delete_spans``), and its weight is how much the label's log-odds drops:
  ``L(text) - L(text without it)``, ``L`` being the log-odds above, on the model's
  full-precision path. Log-odds rather than probability: when the model is sure, deleting
  any one word barely moves a probability near 1, but it does move the log-odds, as it
  moves the TF-IDF model's exact terms. All variants of a batch are scored in one call. A
  merged phrase's weight is measured again by deleting the whole phrase. Texts of more
  than ``MAX_OCCLUDED_UNITS`` words are occluded in runs of consecutive words.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .labels import TASKS

EVIDENCE_TOP_K = 3
"""Evidence spans per side (toward, against) and task."""
EVIDENCE_DECIMALS = 2
"""Decimals of an evidence weight (log-odds), in JSON and in the table view; a weight that rounds to 0 is left out."""
MAX_OCCLUDED_UNITS = 48
"""Occlusion deletes at most this many units per text (words, or runs of words in longer texts)."""
_WORD = re.compile(r"[#@]?\w+(?:['’\-]\w+)*")
"""A word: letters, digits and '_', with inner apostrophes and hyphens; a hashtag or mention keeps its sign."""

Span = tuple[int, int]


def words(text: str) -> list[Span]:
    """The character spans ``[start, end)`` of the words of ``text``, in order."""
    return [match.span() for match in _WORD.finditer(text)]


def delete_spans(text: str, spans: Sequence[Span]) -> str:
    """``text`` without the given spans; a space left doubled, or before punctuation, goes too."""
    pieces, last = [], 0
    for start, end in sorted(spans):
        start = max(start, last)
        if start >= end:
            continue
        before = text[last:start]
        space_before = before.endswith(" ") or (start == 0 or text[start - 1].isspace())
        if space_before and text[end:end + 1] == " ":
            end += 1
        elif before.endswith(" ") and (end == len(text) or not text[end].isalnum()):
            before = before[:-1]
        pieces.append(before)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


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


def explain_texts(model, texts: list[str], labels: list[dict[str, str]],
                  top_k: int = EVIDENCE_TOP_K) -> list[dict]:
    """Evidence for the given label of each task (usually the predicted one), one dict per text.

    Each dict holds, per task, a list of ``{"start", "end", "text", "weight"}`` spans (toward
    the label first, strongest first; then against it; weights in log-odds), and ``method``:
    ``linear`` (exact, TF-IDF) or ``occlusion`` (measured by deleting words).
    """
    from .classifiers.tfidf import TfidfClassifier

    if isinstance(model, TfidfClassifier):
        evidence = []
        for text, attribution in zip(texts, linear_attributions(model, texts, labels)):
            evidence.append({task: _entries(text, a.spans, [(sign, group, float(a.weights[group].sum()))
                                                            for sign, group in _groups(a.weights, top_k)])
                             for task, a in attribution.items()})
        method = "linear"
    else:
        evidence = _occlusion_evidence(model, texts, labels, top_k)
        method = "occlusion"
    return [{**item, "method": method} for item in evidence]


def _groups(weights: np.ndarray, top_k: int) -> list[tuple[int, list[int]]]:
    """(sign, unit indices) of the evidence: the ``top_k`` units of each sign, adjacent ones merged."""
    found = []
    for sign in (1, -1):
        order = np.argsort(-sign * weights, kind="stable")[:top_k]
        groups: list[list[int]] = []
        for index in sorted(int(i) for i in order if sign * weights[i] > 0):
            if groups and groups[-1][-1] == index - 1:
                groups[-1].append(index)
            else:
                groups.append([index])
        found += [(sign, group) for group in groups]
    return found


def _entries(text: str, spans: list[Span], weighed: list[tuple[int, list[int], float]]) -> list[dict]:
    """Evidence entries from (sign, unit indices, weight): toward the label first, strongest first."""
    entries = []
    for sign, group, weight in sorted(weighed, key=lambda item: (item[0] < 0, -item[0] * item[2])):
        start, end = spans[group[0]][0], spans[group[-1]][1]
        weight = round(weight, EVIDENCE_DECIMALS)
        if weight:
            entries.append({"start": start, "end": end, "text": text[start:end], "weight": weight})
    return entries


# TF-IDF: exact linear contributions -------------------------------------------------------------

def linear_attributions(model, texts: list[str], labels: list[dict[str, str]]) -> list[dict[str, LinearAttribution]]:
    """Per text and task, the exact split of the label's log-odds over the words of the text (TF-IDF models)."""
    cut = [text[:model.max_chars] for text in texts]
    classes = {task: [str(c) for c in task_classes] for task, task_classes in zip(TASKS, model.classes_)}
    label_rows = {task: np.array([classes[task].index(item[task]) for item in labels], dtype=np.int64)
                  for task in TASKS}
    centered = {task: _centered(model.coef_[task], model.temperature_[task]) for task in TASKS}
    intercepts = {task: _centered(model.intercept_[task][:, None], model.temperature_[task])[:, 0] for task in TASKS}
    rows, starts, ends, terms = [], [], [], {task: [] for task in TASKS}
    offset = 0
    for vectorizer in model.vectorizers_.values():
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


# other models: occlusion -------------------------------------------------------------------------

def occlusion_units(text: str) -> list[Span]:
    """The spans occlusion deletes: words, or runs of consecutive words when there are many."""
    spans = words(text)
    size = math.ceil(len(spans) / MAX_OCCLUDED_UNITS) if spans else 1
    return [(spans[i][0], spans[min(i + size, len(spans)) - 1][1]) for i in range(0, len(spans), size)]


def _occlusion_evidence(model, texts: list[str], labels: list[dict[str, str]], top_k: int) -> list[dict]:
    """Occlusion evidence of a batch: every variant scored in one call, merged phrases in one more."""
    scorer = model.full_precision()
    classes = {task: [str(c) for c in task_classes] for task, task_classes in zip(TASKS, model.classes_)}
    columns = [{task: classes[task].index(item[task]) for task in TASKS} for item in labels]
    units = [occlusion_units(text) for text in texts]
    variants, first = [], []
    for text, spans in zip(texts, units):
        first.append(len(variants))
        variants += [text, *(delete_spans(text, [span]) for span in spans)]
    probabilities = dict(zip(TASKS, scorer.predict_proba(variants)))
    weighed, phrases = [], []
    for index, spans in enumerate(units):
        per_task = {}
        for task in TASKS:
            rows = probabilities[task][first[index]:first[index] + 1 + len(spans)]
            scores = log_odds(rows, columns[index][task])
            drops = scores[0] - scores[1:]
            per_task[task] = [[sign, group, float(drops[group[0]])] for sign, group in _groups(drops, top_k)]
            phrases += [(index, task, item) for item in per_task[task] if len(item[1]) > 1]
        weighed.append(per_task)
    if phrases:
        merged = dict(zip(TASKS, scorer.predict_proba(
            [delete_spans(texts[index], [units[index][u] for u in item[1]]) for index, _, item in phrases])))
        for row, (index, task, item) in enumerate(phrases):
            label = columns[index][task]
            item[2] = float(log_odds(probabilities[task][first[index]:first[index] + 1], label)[0]
                            - log_odds(merged[task][row:row + 1], label)[0])
    return [{task: _entries(text, units[index], weighed[index][task]) for task in TASKS}
            for index, text in enumerate(texts)]


def log_odds(probabilities: np.ndarray, label: int | np.ndarray) -> np.ndarray:
    """Per row of an ``(n, k)`` probability array, the log-odds of its label (column ``label``, or
    ``label[row]``) against the mean of all labels, ``log p(label) - mean log p``, as float64 (a
    probability of 0 counts as float32's smallest)."""
    logs = np.log(np.maximum(probabilities.astype(np.float64), np.finfo(np.float32).tiny))
    return logs[np.arange(len(logs)), label] - logs.mean(axis=1)
