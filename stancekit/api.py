"""The Python API: classify texts, documents and data frames with a shipped or saved model.

A thin face over ``stancekit.jobs.scoring``, the scoring path the command line and the
HTML report use too: each function loads the model (``load_model``) and hands over.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, overload

from .classifiers.base import check_texts
from .jobs.scoring import DEFAULT_BATCH_SIZE, document_prediction, score_frame, score_texts
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
    phrases that pushed toward and against each predicted label (``TextClassifier.explain``).
    Raises TypeError for input that is not text.
    """
    if isinstance(text, str):
        return score_texts(load_model(model, device), [text], explain=explain)[0]
    if isinstance(text, (bytes, bytearray)) or not isinstance(text, Iterable):
        raise TypeError(f"classify() takes a str or an iterable of str, not {type(text).__name__}")
    loaded = load_model(model, device)
    if isinstance(text, Iterator):
        return _classify_lazily(loaded, text, batch_size, explain)
    return score_texts(loaded, check_texts(text), explain=explain)


def _classify_lazily(model, texts: Iterator, batch_size: int, explain: bool) -> Iterator[Prediction]:
    offset = 0
    while batch := list(itertools.islice(texts, batch_size)):
        yield from score_texts(model, check_texts(batch, offset), explain=explain)
        offset += len(batch)


def classify_document(text: str, model: str | Path = DEFAULT_MODEL, *, explain: bool = False,
                      device: str = "cpu") -> DocumentPrediction:
    """Split a document into sentences, label each (with evidence if ``explain``), and summarise
    the share of every label."""
    if not isinstance(text, str):
        raise TypeError(f"classify_document() takes a str, not {type(text).__name__}")
    return document_prediction(load_model(model, device), text, explain)


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
    return score_frame(load_model(model, device), frame, text_column, prefix=prefix, batch_size=batch_size,
                       explain=explain)
