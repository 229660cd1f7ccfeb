"""Records of scored output, checked and turned into numbers: group keys, period, document and label counts.

``mark_records`` works on one pandas frame (or one partition of a dask dataframe) and
returns, row for row, the group key fields (a missing or blank value becomes the group
``(missing)``), the period of the time field, the document the record belongs to, and one
0/1 column per label and flag plus the two confidences: what the per-document sums of
``aggregate`` are made of. A record that cannot be read (an unknown label, a confidence
that is not a number, a date that does not parse) stops the work with an InputError
naming its file and line (or its row), or, when skipping errors, is kept out and marked.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Callable

from ..errors import InputError
from ..labels import TASKS, get_scheme
from ..prediction import REVIEW_BELOW
from .dates import EVERY, parse_date, period_label

if TYPE_CHECKING:
    import pandas

MISSING = "(missing)"
"""The group of records without a value in a grouping field (or the period of records without a date)."""
PERIOD = "period"
"""The column that names each record's period in every profile table."""
DOCUMENT = "_document"
SENTENCES = "_n"
PROBLEM_FIELD, PROBLEM = "_field", "_problem"
LOCATION = ("__file", "__line")
"""Optional columns naming each record's file and line, for error messages (the command line sets them)."""
FLAGS = ("review", "out of scope")
"""The flags whose shares a profile reports: as in ``prediction.review_flag``."""
CONFIDENCE_TASKS = {"stance": "stance_confidence", "claim_type": "claim_confidence"}
_TRUE, _FALSE = {True, 1, "true", "True", "TRUE", "1"}, {False, 0, "false", "False", "FALSE", "0"}


@dataclass(frozen=True)
class Fields:
    """Where the records keep what a profile reads.

    ``by``: the grouping fields; ``time``: the date field, grouped into periods of length
    ``every``; ``document``: the field naming each record's document (None: the
    ``input_file`` and ``document`` fields that ``classify --split-sentences`` writes when
    both are present, else each record is its own document); ``prefix``: the prefix of the
    prediction fields (as ``classify --prefix`` wrote them).
    """

    by: tuple[str, ...]
    time: str | None = None
    every: str = "month"
    document: str | None = None
    prefix: str = ""

    def __post_init__(self) -> None:
        if not self.by:
            raise ValueError("a profile needs at least one grouping field (by=...)")
        if self.every not in EVERY:
            raise ValueError(f"unknown period {self.every!r}; expected one of {', '.join(EVERY)}")
        reserved = {PERIOD, *TIDY_COLUMNS, *CHANGE_COLUMNS}
        taken = [name for name in self.by if name in reserved or name.startswith("_")]
        if taken:
            raise ValueError(f"grouping field {taken[0]!r} has the name of a profile column; rename it")

    @property
    def keys(self) -> list[str]:
        """The columns that name a group: the grouping fields, then the period (with a time field)."""
        return [*self.by, *([PERIOD] if self.time else [])]

    @property
    def predictions(self) -> dict[str, str]:
        """The prediction fields a profile reads → their names in the records (with the prefix)."""
        return {name: self.prefix + name for name in ("stance", "claim_type", *CONFIDENCE_TASKS.values(), "in_scope")}

    def default_documents(self, columns) -> tuple[str, str] | None:
        """The provenance fields that name documents, when the records have both and no field was chosen."""
        pair = (self.prefix + "input_file", self.prefix + "document")
        return pair if self.document is None and all(name in columns for name in pair) else None

    def documents_description(self, columns) -> str:
        """How documents are told apart, in words, for headers and notes."""
        if self.document:
            return f"the {self.document} field"
        pair = self.default_documents(columns)
        return f"the {pair[0]} and {pair[1]} fields" if pair else "each record is its own document"


TIDY_COLUMNS = ("documents", "sentences", "few_documents", "mean_stance_confidence", "mean_claim_confidence",
                "task", "label", "count", "share", "low", "high")
"""The columns of a profile after the group key columns (tidy: one row per group and label)."""
CHANGE_COLUMNS = ("period_before", "period_after", "task", "label", "documents_before", "documents_after", "share_before",
                  "share_after", "change", "low", "high", "p_value", "q_value", "tested", "changed")
"""The columns of a change listing after the grouping fields."""


def value_columns() -> list[tuple[str, str]]:
    """(task, label) of every counted column: each stance, each claim type, each flag, then the two
    confidences as ``("confidence", task)``."""
    scheme = get_scheme()
    return ([(task, label) for task in TASKS for label in scheme.labels(task)]
            + [("flag", flag) for flag in FLAGS] + [("confidence", task) for task in TASKS])


def column_name(task: str, label: str) -> str:
    """The name of a counted column in marked records and document tables."""
    return f"{task}:{label}"


def check_columns(columns, fields: Fields) -> None:
    """Refuse records that lack a field the profile reads (every record lacks it: a typo, or unscored input)."""
    columns = list(columns)
    present = [name for name in columns if name not in LOCATION]
    for name in fields.predictions.values():
        if name not in columns:
            raise InputError(f"no field {name!r} in the input: a profile reads the output of stancekit classify "
                             "(or scores raw input first with --model); with prefixed prediction fields, give "
                             "the prefix", field=name)
    for role, name in (*((("grouping", name) for name in fields.by)), ("time", fields.time),
                       ("document", fields.document)):
        if name is not None and name not in columns:
            raise InputError(f"no {role} field {name!r} in the input (fields: {', '.join(map(str, present))})",
                             field=name)


def mark_records(part: "pandas.DataFrame", fields: Fields, skip_errors: bool = False,
                 partition_info: dict | None = None) -> "pandas.DataFrame":
    """The records of ``part`` as group keys, document and counted columns, index unchanged.

    Raises InputError at the first record that cannot be read, or, with ``skip_errors``,
    names the field and the problem in the ``_field`` and ``_problem`` columns (empty for
    good records). ``partition_info`` is what dask passes: its number keeps the documents
    of single records distinct across partitions.
    """
    import pandas

    scheme = get_scheme()
    problems = _Problems(part.index)
    marked = pandas.DataFrame(index=part.index)
    for name in fields.by:
        marked[name] = _keys(part[name])
    if fields.time:
        marked[PERIOD] = _periods(part[fields.time], fields.every, problems, fields.time)
    marked[DOCUMENT] = _documents(part, fields, (partition_info or {}).get("number", 0))
    marked[SENTENCES] = 1
    names = fields.predictions
    for task in TASKS:
        values = part[names[task]]
        allowed = scheme.labels(task)
        problems.add(~values.isin(allowed), names[task], values, lambda value, allowed=allowed, task=task:
                     "missing" if _is_missing(value) else
                     f"{value!r} is not a {task} label of label scheme {scheme.version} ({', '.join(allowed)})")
        for label in allowed:
            marked[column_name(task, label)] = (values == label).astype("int64")
    confidences = {task: _confidences(part[names[field]], problems, names[field])
                   for task, field in CONFIDENCE_TASKS.items()}
    in_scope = _in_scope(part[names["in_scope"]], problems, names["in_scope"])
    marked[column_name("flag", "review")] = (in_scope & (confidences["stance"] < REVIEW_BELOW)).astype("int64")
    marked[column_name("flag", "out of scope")] = (~in_scope).astype("int64")
    for task, values in confidences.items():
        marked[column_name("confidence", task)] = values.fillna(0.0)
    if problems.any() and not skip_errors:
        raise problems.first_error(part)
    marked[PROBLEM_FIELD], marked[PROBLEM] = problems.field, problems.reason
    return marked


class _Problems:
    """The first problem of each record: the field and what is wrong with its value."""

    def __init__(self, index) -> None:
        import pandas

        self.field = pandas.Series("", index=index, dtype=object)
        self.reason = pandas.Series("", index=index, dtype=object)

    def add(self, bad, field: str, values, describe: Callable[[object], str]) -> None:
        new = bad & (self.field == "")
        if new.any():
            self.field[new] = field
            self.reason[new] = values[new].map(describe)

    def any(self) -> bool:
        return bool((self.field != "").any())

    def first_error(self, part) -> InputError:
        position = int((self.field != "").to_numpy().argmax())
        return InputError(self.reason.iloc[position], field=self.field.iloc[position],
                          **record_location(part, position))


def record_location(part, position: int) -> dict:
    """``path`` and ``line`` of the record at ``position``: its file and line, else its row label."""
    if all(name in part.columns for name in LOCATION):
        return {"path": part[LOCATION[0]].iloc[position], "line": int(part[LOCATION[1]].iloc[position])}
    return {"path": f"row {part.index[position]!r}"}


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas

        return value is pandas.NA or value is pandas.NaT
    except ImportError:  # pragma: no cover - pandas comes with the frames this reads
        return False


def key_text(value: object) -> str:
    """A grouping value as text: ``(missing)`` for none or blank, JSON for lists and objects, 2025 for 2025.0."""
    if _is_missing(value):
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _keys(values: "pandas.Series") -> "pandas.Series":
    return values.map(key_text).astype(object)


def _periods(values: "pandas.Series", every: str, problems: _Problems, field: str) -> "pandas.Series":
    """The period of each value (``(missing)`` without a date); values that are not dates become problems."""
    seen: dict[object, tuple[str, str]] = {}

    def period(value: object) -> tuple[str, str]:
        if _is_missing(value):
            return MISSING, ""
        key = value if isinstance(value, (str, datetime, date)) else repr(value)
        if key not in seen:
            try:
                seen[key] = (period_label(parse_date(value), every), "")
            except ValueError as exc:
                seen[key] = (MISSING, str(exc))
        return seen[key]

    labelled = values.map(period)
    reasons = labelled.map(lambda pair: pair[1])
    problems.add(reasons != "", field, reasons, str)
    return labelled.map(lambda pair: pair[0]).astype(object)


def _documents(part: "pandas.DataFrame", fields: Fields, partition: int) -> "pandas.Series":
    """Each record's document: the chosen field, the provenance pair, or the record itself (also when missing)."""
    import pandas

    own = pandas.Series([f"\x00{partition}:{i}" for i in range(len(part))], index=part.index, dtype=object)
    pair = fields.default_documents(part.columns)
    if fields.document:
        named = _keys(part[fields.document])
    elif pair:
        named = _keys(part[pair[0]]) + "\x1f" + _keys(part[pair[1]])
        named[(_keys(part[pair[1]]) == MISSING).to_numpy()] = MISSING
    else:
        return own
    return named.where(named != MISSING, own)


def _confidences(values: "pandas.Series", problems: _Problems, field: str) -> "pandas.Series":
    import pandas

    numbers = pandas.to_numeric(values.map(lambda v: None if isinstance(v, bool) else v), errors="coerce")
    bad = ~numbers.between(0.0, 1.0)
    problems.add(bad, field, values, lambda value: "missing" if _is_missing(value)
                 else f"expected a confidence between 0 and 1, got {value!r}")
    return numbers.where(~bad).astype("float64")


def _in_scope(values: "pandas.Series", problems: _Problems, field: str) -> "pandas.Series":
    known = values.map(lambda value: value in _TRUE or value in _FALSE if isinstance(value, (bool, int, str))
                       else False).astype(bool)
    problems.add(~known, field, values, lambda value: "missing" if _is_missing(value)
                 else f"expected true or false, got {value!r}")
    return values.map(lambda value: isinstance(value, (bool, int, str)) and value in _TRUE).astype(bool)
