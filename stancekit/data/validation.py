"""Checking labeled files against the annotation schema: fields, labels, ids and near-duplicates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import InputError
from ..io.lines import iter_jsonl
from ..labels import TASKS, get_scheme, load_schema


@dataclass
class ValidationReport:
    """The outcome of validating labeled files: every problem found, and the label counts."""

    problems: list[InputError] = field(default_factory=list)
    records: int = 0
    counts: dict[str, Counter] = field(default_factory=lambda: {task: Counter() for task in TASKS})

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: the record count and the count of every label."""
        scheme = get_scheme()
        parts = [f"{self.records} records"]
        for task in TASKS:
            counts = ", ".join(f"{label} {self.counts[task][label]}" for label in scheme.labels(task))
            parts.append(f"{task}: {counts}")
        return "; ".join(parts)


def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema())


def _describe(error) -> tuple[str, str]:
    """Turn a jsonschema error into (field, message) in the project's own words."""
    schema_props = load_schema()["properties"]
    if error.validator == "required":
        missing = error.message.split("'")[1]
        return missing, "missing required field"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(schema_props))
        return ", ".join(extra), "unknown field"
    name = ".".join(str(part) for part in error.absolute_path) or "record"
    if error.validator == "enum":
        return name, f"unknown label {error.instance!r}; expected one of {', '.join(error.validator_value)}"
    if error.validator == "const":
        return name, f"is {error.instance!r}, expected {error.validator_value!r}"
    if error.validator in ("minLength", "pattern") and name == "text":
        return name, "empty text"
    if error.validator == "type":
        return name, f"must be of type {error.validator_value}, not {type(error.instance).__name__}"
    return name, error.message


def validate_files(paths: Iterable[str | Path],
                   near_duplicate_threshold: float | None = None) -> ValidationReport:
    """Check labeled JSON Lines files against the annotation schema.

    Finds invalid JSON, missing or unknown fields and labels, empty text, a wrong
    ``schema_version`` and ids that repeat within or across files. A file that
    cannot be read or parsed stops at its first bad line; the other files are
    still checked. With ``near_duplicate_threshold``, also reports texts of different
    documents that are near-duplicates (see ``stancekit.data.near_duplicates``).
    """
    validator = _validator()
    report = ValidationReport()
    seen_ids: dict[str, str] = {}
    valid: list[tuple[str, int, dict]] = []
    for path in paths:
        try:
            for number, record in iter_jsonl(path):
                if _check_record(validator, record, str(path), number, seen_ids, report):
                    valid.append((str(path), number, record))
        except InputError as exc:
            report.problems.append(exc)
    if near_duplicate_threshold is not None:
        report.problems.extend(_near_duplicate_problems(valid, near_duplicate_threshold))
    return report


def _near_duplicate_problems(located: list[tuple[str, int, dict]], threshold: float) -> list[InputError]:
    """Near-duplicate texts across documents, reported at the later record of each pair.

    Pairs within one document are allowed (splits never separate a document, and news
    repeats its headline in its lead), and so are pairs of two seed records, which keep
    the published text verbatim. Identical texts must carry identical labels, unless two
    annotators gave them (a double annotation: ``stancekit import`` measures its agreement).
    """
    from .near_duplicates import near_duplicate_pairs

    problems = []
    for pair in near_duplicate_pairs([record["text"] for _, _, record in located], threshold):
        (path_a, line_a, a), (path_b, line_b, b) = located[pair.first], located[pair.second]
        if a["doc_id"] == b["doc_id"] or a["origin"] == b["origin"] == "seed":
            if " ".join(a["text"].split()) == " ".join(b["text"].split()) and \
                    any(a[task] != b[task] for task in TASKS) and a["annotator"] == b["annotator"]:
                problems.append(InputError(f"same text as {a['id']} ({path_a}:{line_a}) but other labels",
                                           path=path_b, line=line_b, field="text"))
            continue
        problems.append(InputError(
            f"near-duplicate of {a['id']} ({path_a}:{line_a}), similarity {pair.similarity:.2f} "
            f">= {threshold:.2f}: rewrite one of them", path=path_b, line=line_b, field="text"))
    return problems


def _check_record(validator, record: object, path: str, number: int,
                  seen_ids: dict[str, str], report: ValidationReport) -> bool:
    """Add the record's problems and label counts to ``report``; True when it is valid."""
    described = dict.fromkeys(_describe(e) for e in sorted(validator.iter_errors(record),
                                                          key=lambda e: list(e.path)))
    problems = [InputError(message, path=path, line=number, field=name) for name, message in described]
    if not problems and {record["claim_type"], "none"} & set(record.get("secondary_claim_types", [])):
        problems.append(InputError("must not repeat the primary claim type or hold 'none'",
                                   path=path, line=number, field="secondary_claim_types"))
    if isinstance(record, dict) and isinstance(record.get("id"), str):
        where = f"{path}:{number}"
        first = seen_ids.setdefault(record["id"], where)
        if first != where:
            problems.append(InputError(f"duplicate id {record['id']!r}, first used at {first}",
                                       path=path, line=number, field="id"))
    report.problems.extend(problems)
    report.records += 1
    if not problems:
        for task in TASKS:
            report.counts[task][record[task]] += 1
    return not problems
