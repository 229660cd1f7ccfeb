"""The annotation sheet: a CSV file to fill in a spreadsheet program, and reading it back.

The sheet opens with comment rows (first cell starting with ``#``) that list the allowed
values of every column to fill; then a header and one row per unit. ``stance`` and
``claim_type`` hold the model's labels, to keep or overwrite; ``status`` says what the
annotator did: ``done`` (labels checked: imported), ``skip`` (counted, left out) or
empty (not reached: counted, left out). The model's labels and confidences stay in
read-only ``model_*`` columns. The file is UTF-8 with a byte-order mark, so that Excel
shows every script; reading accepts what Excel saves back: a byte-order mark, CRLF line
ends, and ``;`` or tab as the delimiter (found from the header row).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ..files import atomic_output
from ..io.lines import display_name
from ..labels import TASKS, get_scheme
from .imports import NOTES, SECONDARY, ImportResult, Where, check_annotation
from .units import Unit

LABEL_COLUMNS = ("stance", "claim_type", SECONDARY, NOTES, "status", "annotator")
"""The columns an annotator fills."""
KEY_COLUMNS = ("id", "doc_id", "text")
MODEL_COLUMNS = ("model_stance", "model_stance_confidence", "model_claim_type", "model_claim_confidence", "model")
REQUIRED = (*KEY_COLUMNS, "stance", "claim_type", "status")
DONE, SKIP = "done", "skip"
_LIST_SEPARATORS = re.compile(r"[,;|]")
_DELIMITERS = (",", ";", "\t")


def comment_rows() -> list[str]:
    """The comment rows that open a sheet: what to fill and the allowed values."""
    scheme = get_scheme()
    return [
        "# stancekit annotation sheet: fill stance, claim_type, secondary_claim_types, notes, status and "
        "annotator; keep id, doc_id and text unchanged",
        f"# stance: one of {' | '.join(scheme.stances)} (prefilled with the model's label)",
        f"# claim_type: one of {' | '.join(scheme.claim_types)} (prefilled with the model's label)",
        f"# secondary_claim_types: any of {' | '.join(c for c in scheme.claim_types if c != 'none')} "
        "(separated by commas), or empty",
        f"# status: {DONE} (labels checked: imported) or {SKIP} (left out); rows left empty are not imported",
        "# annotator: your name (or leave it empty and give --annotator when importing)",
    ]


def write_sheet(units: Sequence[Unit], path: str | Path) -> None:
    """Write the annotation sheet of ``units`` (UTF-8 with a byte-order mark), whole or not at all."""
    own = set(KEY_COLUMNS + LABEL_COLUMNS + MODEL_COLUMNS)
    extra = list(dict.fromkeys(name for unit in units for name in unit.fields))
    extra_columns = {name: f"input_{name}" if name in own else name for name in extra}
    with atomic_output(path, binary=True) as binary:
        handle = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerows([row] for row in comment_rows())
        writer.writerow([*KEY_COLUMNS, *LABEL_COLUMNS, *MODEL_COLUMNS, *extra_columns.values()])
        for unit in units:
            p = unit.prediction
            writer.writerow([unit.id, unit.doc_id, unit.text, p["stance"], p["claim_type"], "", "", "", "",
                             p["stance"], f"{p['stance_confidence']:.3f}", p["claim_type"],
                             f"{p['claim_confidence']:.3f}", f"{p['model']} {p['model_version']}",
                             *(_cell(unit.fields.get(name)) for name in extra_columns)])
        handle.flush()
        handle.detach()


def _cell(value: object) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)


def read_sheet(path: str, annotator: str | None = None) -> ImportResult:
    """Read a filled annotation sheet into checked annotations, counting the rows left out.

    ``annotator`` names the annotator of rows whose ``annotator`` cell is empty. A bad
    value raises InputError naming the file, line and column.
    """
    name = display_name(path)
    rows = _rows(path)
    header_line, header = next(rows, (1, None))
    if header is None:
        raise InputError("empty sheet: no header row", path=name)
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise InputError(f"no column {missing[0]!r} in the header (columns: {', '.join(header)}); "
                         "export a sheet with 'stancekit export --to csv'", path=name, line=header_line,
                         field=missing[0])
    result = ImportResult()
    for line, cells in rows:
        where = Where(name, line=line)
        if any(cells[len(header):]):
            raise where.error("row", f"{len(cells)} cells for {len(header)} columns")
        row = dict(zip(header, cells + [""] * (len(header) - len(cells))))
        result.units += 1
        status = row["status"].strip().lower()
        if status == SKIP:
            result.skipped += 1
        elif not status:
            result.not_annotated += 1
        elif status != DONE:
            raise where.error("status", f"unknown status {row['status']!r}; expected {DONE}, {SKIP} or empty")
        else:
            secondary = [label.strip() for label in _LIST_SEPARATORS.split(row.get(SECONDARY, "")) if label.strip()]
            result.annotations.append(check_annotation(
                where, unit_id=row["id"], doc_id=row["doc_id"], text=row["text"],
                annotator=row.get("annotator", "").strip() or annotator,
                **{task: row[task].strip() for task in TASKS}, secondary=secondary,
                notes=row.get(NOTES, ""), source=Path(name).name))
    return result


def _rows(path: str):
    """Yield ``(line, cells)`` for the header and every non-empty row after the comment rows."""
    name = display_name(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=name) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"invalid UTF-8 at byte {exc.start}; save the sheet as 'CSV UTF-8'", path=name,
                         line=raw[:exc.start].count(b"\n") + 1) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    for cells in reader:
        while cells and not cells[-1].strip():
            cells = cells[:-1]
        if cells and not cells[0].lstrip().startswith("#"):
            yield reader.line_num, cells


def _delimiter(text: str) -> str:
    """The delimiter that splits the header row into the sheet's key columns (``,`` if none does)."""
    for line in text.splitlines():
        if line.strip() and not line.lstrip('"').startswith("#"):
            return next((d for d in _DELIMITERS if set(KEY_COLUMNS) <= set(next(csv.reader([line], delimiter=d)))),
                        ",")
    return ","
