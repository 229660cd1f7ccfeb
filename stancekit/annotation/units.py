"""Units to annotate: the texts of input files (or each of their sentences), with the model's labels.

Texts are read and scored through the same pipeline as ``stancekit classify`` (every input
format it reads, sentence splitting with offsets), so an exported unit carries exactly the
labels ``classify`` gives it. Each unit gets an id that comes back with the annotations:
the input record's ``id`` (else ``FILE-LINE``), and with sentence splitting ``ID-sN`` for
its N-th sentence (from 0); its document is the input's ``doc_id`` (else that id).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ..io.readers import input_format, read_inputs

_PREFIX = "stancekit_"
"""Prefix of the fields the scoring pipeline adds, so that input fields of any name are kept."""
PREDICTION_KEYS = ("stance", "stance_confidence", "stance_scores", "claim_type", "claim_confidence", "claim_scores",
                   "model", "model_version")
"""The model's labels as a unit carries them."""


@dataclass(frozen=True)
class Unit:
    """One text to annotate: its id, document, text, other input fields and the model's labels."""

    id: str
    doc_id: str
    text: str
    fields: dict
    """The input record's other fields, and ``start``/``end`` offsets with sentence splitting."""
    prediction: dict
    """The model's labels, confidences, scores of every label, name and version (``PREDICTION_KEYS``)."""

    def confidence(self, task: str) -> float:
        """The model's confidence in its ``task`` label."""
        return self.prediction["stance_confidence" if task == "stance" else "claim_confidence"]

    def scores(self, task: str) -> dict[str, float]:
        """The model's probability of every ``task`` label."""
        return self.prediction["stance_scores" if task == "stance" else "claim_scores"]


def read_units(inputs: Sequence[str], model: str, text_field: str = "text", split_sentences: bool = False,
               explicit_format: str | None = None, quiet: bool = False) -> list[Unit]:
    """Read and label every text (or sentence) of ``inputs`` with ``model``; unit ids must be unique."""
    from ..jobs.scoring import ScoringPipeline
    from ..progress import progress_bar
    from ..registry import load_model

    pipeline = ScoringPipeline(load_model(model), text_field=text_field, split_sentences=split_sentences,
                               prefix=_PREFIX)
    units: list[Unit] = []
    seen: dict[str, str] = {}
    with progress_bar(None, "labeling", quiet, unit="rec") as bar:
        for path in inputs:
            for batch in pipeline.run(read_inputs(path, input_format(path, explicit_format), text_field)):
                for record in batch.records:
                    unit = _unit(record, text_field, split_sentences)
                    where = f"{record[_PREFIX + 'input_file']}:{record[_PREFIX + 'input_line']}"
                    if unit.id in seen:
                        raise InputError(f"duplicate id {unit.id!r}, first used at {seen[unit.id]}",
                                         path=record[_PREFIX + "input_file"],
                                         line=record[_PREFIX + "input_line"], field="id")
                    seen[unit.id] = where
                    units.append(unit)
                bar.update(batch.counts.consumed)
    return units


def _unit(record: dict, text_field: str, split_sentences: bool) -> Unit:
    """A unit from one output record of the scoring pipeline."""
    given_id = record.get("id")
    base = (str(given_id) if isinstance(given_id, (str, int)) and str(given_id).strip()
            else f"{Path(record[_PREFIX + 'input_file']).stem}-{record[_PREFIX + 'input_line']}")
    given_doc = record.get("doc_id")
    doc_id = str(given_doc) if isinstance(given_doc, (str, int)) and str(given_doc).strip() else base
    fields = {key: value for key, value in record.items() if not key.startswith(_PREFIX) and key != text_field}
    unit_id = base
    if split_sentences:
        unit_id = f"{base}-s{record[_PREFIX + 'sentence']}"
        fields.update(start=record[_PREFIX + "start"], end=record[_PREFIX + "end"])
    prediction = {key: record[_PREFIX + key] for key in PREDICTION_KEYS}
    return Unit(unit_id, doc_id, record[text_field], fields, prediction)

