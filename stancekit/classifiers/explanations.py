"""Evidence for a label: the words and phrases of a text that pushed toward it and against it.

A model's ``explain`` returns, for the given label of each task (usually the predicted
one), character spans of the text with signed weights: the ``top_k`` strongest toward the
label (positive weights) and against it (negative weights). Adjacent words of one sign
that are both among them are merged into a phrase. Every weight is in log-odds, the
label's ``log p(label) - mean over labels c of log p(c)``, rounded to
``prediction.EVIDENCE_DECIMALS``; a span whose weight rounds to zero is left out. This
module holds what every model kind shares: words and their deletion, the choice and
merging of spans (``evidence_groups``, ``evidence_entries``), and occlusion, the default
method (``occlusion_evidence``); a model that can do better overrides ``explain`` (the
TF-IDF model gives exact linear contributions).

**Occlusion** (``method: "occlusion"``): each word is deleted from the text in turn
(``delete_spans``), and its weight is how much the label's log-odds drops:
``L(text) - L(text without it)``, ``L`` being the log-odds above, on the model's
full-precision path. Log-odds rather than probability: when the model is sure, deleting
any one word barely moves a probability near 1, but it does move the log-odds, as it
moves the TF-IDF model's exact terms. All variants of a batch are scored in one call. A
merged phrase's weight is measured again by deleting the whole phrase. Texts of more than
``MAX_OCCLUDED_UNITS`` words are occluded in runs of consecutive words.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np

from ..labels import TASKS
from ..prediction import EVIDENCE_DECIMALS

EVIDENCE_TOP_K = 3
"""Evidence spans per side (toward, against) and task."""
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


def evidence_groups(weights: np.ndarray, top_k: int) -> list[tuple[int, list[int]]]:
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


def evidence_entries(text: str, spans: list[Span], weighed: list[tuple[int, list[int], float]]) -> list[dict]:
    """Evidence entries from (sign, unit indices, weight): toward the label first, strongest first."""
    entries = []
    for sign, group, weight in sorted(weighed, key=lambda item: (item[0] < 0, -item[0] * item[2])):
        start, end = spans[group[0]][0], spans[group[-1]][1]
        weight = round(weight, EVIDENCE_DECIMALS)
        if weight:
            entries.append({"start": start, "end": end, "text": text[start:end], "weight": weight})
    return entries


# occlusion, the default ---------------------------------------------------------------------------

def occlusion_units(text: str) -> list[Span]:
    """The spans occlusion deletes: words, or runs of consecutive words when there are many."""
    spans = words(text)
    size = math.ceil(len(spans) / MAX_OCCLUDED_UNITS) if spans else 1
    return [(spans[i][0], spans[min(i + size, len(spans)) - 1][1]) for i in range(0, len(spans), size)]


def occlusion_evidence(model, texts: list[str], labels: list[dict[str, str]], top_k: int) -> list[dict]:
    """Occlusion evidence of the label of each task (``labels``, one dict per text) for a batch of texts,
    measured on the model's full-precision path: every variant scored in one call, merged phrases in one more."""
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
            per_task[task] = [[sign, group, float(drops[group[0]])] for sign, group in evidence_groups(drops, top_k)]
            phrases += [(index, task, item) for item in per_task[task] if len(item[1]) > 1]
        weighed.append(per_task)
    if phrases:
        merged = dict(zip(TASKS, scorer.predict_proba(
            [delete_spans(texts[index], [units[index][u] for u in item[1]]) for index, _, item in phrases])))
        for row, (index, task, item) in enumerate(phrases):
            label = columns[index][task]
            item[2] = float(log_odds(probabilities[task][first[index]:first[index] + 1], label)[0]
                            - log_odds(merged[task][row:row + 1], label)[0])
    return [{**{task: evidence_entries(text, units[index], weighed[index][task]) for task in TASKS},
             "method": "occlusion"} for index, text in enumerate(texts)]


def log_odds(probabilities: np.ndarray, label: int | np.ndarray) -> np.ndarray:
    """Per row of an ``(n, k)`` probability array, the log-odds of its label (column ``label``, or
    ``label[row]``) against the mean of all labels, ``log p(label) - mean log p``, as float64 (a
    probability of 0 counts as float32's smallest)."""
    logs = np.log(np.maximum(probabilities.astype(np.float64), np.finfo(np.float32).tiny))
    return logs[np.arange(len(logs)), label] - logs.mean(axis=1)
