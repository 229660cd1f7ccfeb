"""The Python API: classify texts, documents and data frames with a shipped or saved model."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, overload

from .io import flatten_for_csv
from .labels import TASKS
from .pipeline import (DEFAULT_BATCH_SIZE, prediction_columns, prediction_fields, score_document,
                       score_texts)
from .prediction import DocumentPrediction, Prediction
from .registry import DEFAULT_MODEL, load_model

if TYPE_CHECKING:
    import pandas


@overload
def classify(text: str, model: str | Path = ..., *, batch_size: int = ..., explain: bool = ...,
             device: str = ...) -> Prediction: ...
@overload
def classify(text: Iterator[str], model: str | Path = ..., *, batch_size: int = ...,
             explain: bool = ..., device: str = ...) -> Iterator[Prediction]: ...
@overload
def classify(text: Iterable[str], model: str | Path = ..., *, batch_size: int = ...,
             explain: bool = ..., device: str = ...) -> list[Prediction]: ...


def classify(text, model: str | Path = DEFAULT_MODEL, *, batch_size: int = DEFAULT_BATCH_SIZE,
             explain: bool = False, device: str = "cpu"):
    """Label one text, or many.

    - a ``str`` gives one Prediction;
    - an iterator or generator gives an iterator of Predictions, read and scored lazily,
      ``batch_size`` texts at a time (memory does not grow with the input);
    - any other iterable of ``str`` (list, tuple, pandas Series, NumPy array) gives a list,
      in input order.

    ``model`` is a shipped model name (``"ensemble"``, the default, ``"transformer"`` or
    ``"tfidf"``) or the folder of a saved model; ``device`` is where it runs ("cpu", or
    "cuda" for the transformer models). ``explain=True`` adds ``evidence``: the words and
    phrases that pushed toward and against each predicted label (``stancekit.explain``).
    Raises TypeError for input that is not text.
    """
    if isinstance(text, str):
        return score_texts(load_model(model, device), [text], explain=explain)[0]
    if isinstance(text, (bytes, bytearray)) or not isinstance(text, Iterable):
        raise TypeError(f"classify() takes a str or an iterable of str, not {type(text).__name__}")
    loaded = load_model(model, device)
    if isinstance(text, Iterator):
        return _classify_lazily(loaded, text, batch_size, explain)
    return score_texts(loaded, _checked(list(text)), explain=explain)


def _classify_lazily(model, texts: Iterator, batch_size: int, explain: bool) -> Iterator[Prediction]:
    offset = 0
    while batch := list(itertools.islice(texts, batch_size)):
        yield from score_texts(model, _checked(batch, offset), explain=explain)
        offset += len(batch)


def _checked(texts: list, offset: int = 0) -> list[str]:
    """``texts`` unchanged, after a TypeError for any item that is not a str (naming its position)."""
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text at position {offset + index} is of type {type(text).__name__}, expected str")
    return texts


def classify_document(text: str, model: str | Path = DEFAULT_MODEL, *, explain: bool = False,
                      device: str = "cpu") -> DocumentPrediction:
    """Split a document into sentences, label each (with evidence if ``explain``), and summarise
    the share of every label."""
    if not isinstance(text, str):
        raise TypeError(f"classify_document() takes a str, not {type(text).__name__}")
    loaded = load_model(model, device)
    labels = {task: tuple(str(c) for c in classes) for task, classes in zip(TASKS, loaded.classes_)}
    return DocumentPrediction.from_sentences(text, score_document(loaded, text, explain), labels)


def classify_frame(frame: "pandas.DataFrame", text_column: str = "text", model: str | Path = DEFAULT_MODEL,
                   *, prefix: str = "", batch_size: int = DEFAULT_BATCH_SIZE,
                   explain: bool = False, device: str = "cpu") -> "pandas.DataFrame":
    """Return a copy of ``frame`` with prediction columns added, rows and index unchanged.

    Adds ``stance``, ``stance_confidence``, ``claim_type``, ``claim_confidence``, one
    ``stance_score_<label>`` and ``claim_score_<label>`` column per label, ``model``,
    ``model_version``, ``truncated``, ``language`` and ``in_scope``, and with ``explain``
    ``evidence`` (as JSON text, like CSV output), each name starting with ``prefix``. Raises
    ValueError when a new column's name is already taken (choose a ``prefix``) and
    TypeError when a value of ``text_column`` is not a str.
    """
    import pandas

    if text_column not in frame.columns:
        raise ValueError(f"no column {text_column!r} in the frame (columns: {', '.join(map(str, frame.columns))})")
    loaded = load_model(model, device)
    texts = _checked(frame[text_column].tolist())
    rows = [flatten_for_csv(fields) for start in range(0, len(texts), batch_size)
            for fields in prediction_fields(loaded, texts[start:start + batch_size], explain)]
    added = pandas.DataFrame.from_records(rows, columns=prediction_columns(loaded, explain=explain),
                                          index=frame.index)
    added = added.add_prefix(prefix)
    taken = [name for name in added.columns if name in frame.columns]
    if taken:
        raise ValueError(f"the frame already has column(s) {', '.join(taken)}; "
                         "choose a prefix for the prediction columns (prefix=...)")
    return pandas.concat([frame, added], axis=1)
