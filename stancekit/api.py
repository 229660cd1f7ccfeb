"""The Python API: classify sentences and documents with a shipped or saved model."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence, overload

from .labels import TASKS
from .prediction import DocumentPrediction, Prediction
from .registry import DEFAULT_MODEL, load_model
from .segment import split_sentences


def predictions_from(model, texts: list[str], offsets: Sequence[tuple[int, int] | None] | None = None
                     ) -> list[Prediction]:
    """Score ``texts`` with a loaded model and wrap each result in a Prediction."""
    scores = model.predict_scores(texts)
    offsets = offsets or [None] * len(texts)
    results = []
    for index, text in enumerate(texts):
        per_task = {}
        for task, classes, probabilities in zip(TASKS, model.classes_, scores.probabilities):
            row = probabilities[index]
            best = int(row.argmax())
            per_task[task] = (str(classes[best]), float(row[best]),
                              {str(label): float(p) for label, p in zip(classes, row)})
        span = offsets[index]
        results.append(Prediction(
            text=text,
            stance=per_task["stance"][0], stance_confidence=per_task["stance"][1],
            stance_scores=per_task["stance"][2],
            claim_type=per_task["claim_type"][0], claim_confidence=per_task["claim_type"][1],
            claim_scores=per_task["claim_type"][2],
            model=model.name, model_version=model.version, truncated=bool(scores.truncated[index]),
            start=span[0] if span else None, end=span[1] if span else None))
    return results


@overload
def classify(text: str, model: str | Path = ...) -> Prediction: ...
@overload
def classify(text: Sequence[str], model: str | Path = ...) -> list[Prediction]: ...


def classify(text, model: str | Path = DEFAULT_MODEL):
    """Label one text (returns a Prediction) or a list of texts (returns a list, in input order).

    ``model`` is a shipped model name (``"ensemble"``, the default, ``"transformer"`` or
    ``"tfidf"``) or the folder of a saved model. Raises TypeError for input that is not text.
    """
    loaded = load_model(model)
    if isinstance(text, str):
        return predictions_from(loaded, [text])[0]
    if isinstance(text, (bytes, bytearray)) or not isinstance(text, Sequence):
        raise TypeError(f"classify() takes a str or a sequence of str, not {type(text).__name__}")
    return predictions_from(loaded, list(text))


def classify_document(text: str, model: str | Path = DEFAULT_MODEL) -> DocumentPrediction:
    """Split a document into sentences, label each, and summarise the share of every label."""
    if not isinstance(text, str):
        raise TypeError(f"classify_document() takes a str, not {type(text).__name__}")
    loaded = load_model(model)
    sentences = split_sentences(text)
    predictions = predictions_from(loaded, [s.text for s in sentences],
                                   [(s.start, s.end) for s in sentences])
    labels = {task: tuple(str(c) for c in classes) for task, classes in zip(TASKS, loaded.classes_)}
    return DocumentPrediction.from_sentences(text, predictions, labels)
