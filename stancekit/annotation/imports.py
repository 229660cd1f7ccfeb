"""What every import shares: checked annotations, their counts, and records of annotations/schema.json.

An import reads units (Label Studio tasks, spreadsheet rows), each with zero or more
annotations. Every annotation is checked against the label scheme as it is read, and an
error names the file, the task or line, and the field. Skipped (cancelled) annotations and
units nobody annotated are counted and reported, never dropped silently. Records get
``origin`` ``external``; a unit annotated by one person keeps its id, a unit annotated by
several yields one record per annotation, with ids ``UNIT@ANNOTATOR`` (``-2``, ``-3`` for a
person who annotated it again).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import InputError
from ..files import atomic_output
from ..labels import get_scheme

SECONDARY = "secondary_claim_types"
NOTES = "notes"


@dataclass(frozen=True)
class Where:
    """Where an annotation came from, for error messages: a file, and a line or a task id."""

    path: str
    line: int | None = None
    task: str | None = None

    def error(self, field_name: str, message: str) -> InputError:
        """An InputError naming this place and ``field_name``."""
        named = f"task {self.task}: {field_name}" if self.task is not None else field_name
        return InputError(message, path=self.path, line=self.line, field=named)


@dataclass(frozen=True)
class Annotation:
    """One person's labels for one unit, checked against the label scheme."""

    unit_id: str
    doc_id: str
    text: str
    annotator: str
    stance: str
    claim_type: str
    secondary_claim_types: tuple[str, ...]
    notes: str
    source: str


@dataclass
class ImportResult:
    """The annotations an import read, and what it left out."""

    annotations: list[Annotation] = field(default_factory=list)
    units: int = 0
    skipped: int = 0
    """Annotations marked skipped or cancelled: left out."""
    not_annotated: int = 0
    """Units without any annotation: left out."""

    @classmethod
    def combined(cls, parts: Iterable["ImportResult"]) -> "ImportResult":
        """One result holding the annotations and counts of several imports (several files)."""
        result = cls()
        for part in parts:
            result.annotations += part.annotations
            result.units += part.units
            result.skipped += part.skipped
            result.not_annotated += part.not_annotated
        return result

    def records(self) -> list[dict]:
        """One record per annotation, following annotations/schema.json."""
        per_unit = Counter(a.unit_id for a in self.annotations)
        seen: Counter = Counter()
        records = []
        for annotation in self.annotations:
            record_id = annotation.unit_id
            if per_unit[annotation.unit_id] > 1:
                record_id = f"{annotation.unit_id}@{annotation.annotator}"
                seen[record_id] += 1
                record_id += f"-{seen[record_id]}" if seen[record_id] > 1 else ""
            records.append(_record(annotation, record_id))
        return records

    def summary(self, output: str) -> str:
        """One line: what was written where, and what was left out."""
        annotators = len({a.annotator for a in self.annotations})
        return (f"wrote {len(self.annotations)} records to {output} ({len(self.annotations)} annotations of "
                f"{len({a.unit_id for a in self.annotations})} units by {annotators} "
                f"annotator{'s' * (annotators != 1)}, from {self.units} units read); left out: "
                f"{self.skipped} skipped annotation{'s' * (self.skipped != 1)}, "
                f"{self.not_annotated} unit{'s' * (self.not_annotated != 1)} without annotations")


def check_annotation(where: Where, *, unit_id: object, doc_id: object, text: object, annotator: object,
                     stance: object, claim_type: object, secondary: Iterable[object] = (), notes: object = "",
                     source: str) -> Annotation:
    """Check one annotation's values against the label scheme; raise InputError naming the bad field."""
    scheme = get_scheme()
    checked = {name: _nonempty(where, name, value) for name, value in
               (("id", unit_id), ("doc_id", doc_id), ("text", text), ("annotator", annotator))}
    labels = {task: _one_label(where, task, value, scheme.labels(task))
              for task, value in (("stance", stance), ("claim_type", claim_type))}
    secondary = tuple(secondary)
    for value in secondary:
        if value not in scheme.claim_types:
            raise where.error(SECONDARY, f"unknown label {value!r}; expected some of "
                                         f"{', '.join(scheme.claim_types[:-1])}")
    if {labels["claim_type"], "none"} & set(secondary):
        raise where.error(SECONDARY, f"must not repeat the primary claim type ({labels['claim_type']}) "
                                     "or hold 'none'")
    if len(set(secondary)) != len(secondary):
        raise where.error(SECONDARY, "lists a claim type twice")
    if not isinstance(notes, str):
        raise where.error(NOTES, f"must be text, not {type(notes).__name__}")
    return Annotation(checked["id"], checked["doc_id"], text, checked["annotator"], labels["stance"],
                      labels["claim_type"], secondary, notes.strip(), source)


def _nonempty(where: Where, name: str, value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None:
        raise where.error(name, "missing")
    if not isinstance(value, str):
        raise where.error(name, f"must be text, not {type(value).__name__}")
    if not value.strip():
        raise where.error(name, "empty")
    return value if name == "text" else value.strip()


def _one_label(where: Where, task: str, value: object, labels: tuple[str, ...]) -> str:
    if value is None or value == "":
        raise where.error(task, f"missing: choose one of {', '.join(labels)}")
    if not isinstance(value, str) or value.strip() not in labels:
        raise where.error(task, f"unknown label {value!r}; expected one of {', '.join(labels)}")
    return value.strip()


def _record(annotation: Annotation, record_id: str) -> dict:
    record = {"schema_version": get_scheme().version, "id": record_id, "text": annotation.text,
              "stance": annotation.stance, "claim_type": annotation.claim_type}
    if annotation.secondary_claim_types:
        record[SECONDARY] = list(annotation.secondary_claim_types)
    record.update(doc_id=annotation.doc_id, origin="external", source=annotation.source,
                  annotator=annotation.annotator)
    if annotation.notes:
        record[NOTES] = annotation.notes
    return record


def write_records(records: list[dict], output: str | Path) -> None:
    """Write records as JSON Lines, whole or not at all."""
    with atomic_output(output) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
