"""Label Studio: the labeling interface, tasks with the model's labels as predictions, and JSON exports.

The formats are Label Studio's documented JSON (checked against label-studio-sdk's own
validator and a real server in tests/test_label_studio.py), written and read here with the
standard library: stancekit does not need Label Studio or its SDK installed, whose pinned
dependencies would constrain stancekit's own.

- ``label_config``: the interface: the sentence, stance (one choice), claim type (one
  choice), secondary claim types (several choices) and a free-text note;
- ``tasks``: one task per unit, its ``data`` holding the text, ``unit_id``, ``doc_id``, the
  input's other fields and the offsets, and the model's labels as one *prediction*
  (``model_version`` "NAME VERSION", a score per label, and the lower of the two as the
  prediction's score, by which Label Studio can sort tasks);
- ``read_export``: a project's JSON export (Export > JSON) back into checked annotations.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Sequence
from xml.etree import ElementTree

from ..errors import InputError
from ..files import atomic_write_text
from ..io.lines import display_name
from ..labels import TASKS, get_scheme, load_schema
from .imports import NOTES, SECONDARY, Annotation, ImportResult, Where, check_annotation
from .units import Unit

TEXT = "text"
"""The name of the text object in the interface, and of the task data field it shows."""
CONTROLS = {"stance": ("choices", "choices"), "claim_type": ("choices", "choices"),
            SECONDARY: ("choices", "choices"), NOTES: ("textarea", "text")}
"""Each control of the interface: the type of its results and the key of their list of values."""


def label_config() -> str:
    """The labeling interface (Label Studio XML) of the label scheme."""
    scheme = get_scheme()
    descriptions = load_schema()["properties"]
    view = ElementTree.Element("View")
    ElementTree.SubElement(view, "Text", name=TEXT, value=f"${TEXT}")
    groups = (("stance", scheme.stances, "single", True), ("claim_type", scheme.claim_types, "single", True),
              (SECONDARY, tuple(c for c in scheme.claim_types if c != "none"), "multiple", False))
    for name, labels, choice, required in groups:
        ElementTree.SubElement(view, "Header", value=f"{name}: {descriptions[name]['description']}")
        choices = ElementTree.SubElement(view, "Choices", name=name, toName=TEXT, choice=choice,
                                         showInline="true", **({"required": "true"} if required else {}))
        for label in labels:
            ElementTree.SubElement(choices, "Choice", value=label)
    ElementTree.SubElement(view, "Header", value=f"{NOTES}: {descriptions[NOTES]['description']}")
    ElementTree.SubElement(view, "TextArea", name=NOTES, toName=TEXT, rows="2", maxSubmissions="1",
                           editable="true")
    ElementTree.indent(view)
    return ElementTree.tostring(view, encoding="unicode") + "\n"


def tasks(units: Sequence[Unit]) -> list[dict]:
    """Label Studio tasks, one per unit, each with the model's labels as a prediction."""
    return [{"data": {**unit.fields, TEXT: unit.text, "unit_id": unit.id, "doc_id": unit.doc_id},
             "predictions": [_prediction(unit)]} for unit in units]


def write_tasks(units: Sequence[Unit], path: str | Path) -> None:
    """Write the Label Studio tasks of ``units`` as one JSON file, whole or not at all."""
    atomic_write_text(path, json.dumps(tasks(units), ensure_ascii=False, indent=1) + "\n")


def _prediction(unit: Unit) -> dict:
    result = [{"from_name": task, "to_name": TEXT, "type": "choices",
               "value": {"choices": [unit.prediction[task]]}, "score": round(unit.confidence(task), 4)}
              for task in TASKS]
    return {"model_version": f"{unit.prediction['model']} {unit.prediction['model_version']}",
            "score": round(min(unit.confidence(task) for task in TASKS), 4), "result": result}


def read_export(path: str) -> ImportResult:
    """Read a Label Studio JSON export into checked annotations, counting what is left out.

    Cancelled (skipped) annotations and tasks without annotations are counted, not read.
    A task or result that does not fit the labeling interface raises InputError naming
    the file, the task id and the field.
    """
    name = display_name(path)
    result = ImportResult()
    for task_id, task in _tasks(path):
        where = Where(name, task=task_id)
        data = task.get("data")
        if not isinstance(data, dict):
            raise where.error("data", "missing, or not a JSON object")
        annotations = task.get("annotations")
        if not isinstance(annotations, list):
            raise where.error("annotations", "missing, or not a list")
        result.units += 1
        for annotation in annotations:
            if not isinstance(annotation, dict):
                raise where.error("annotations", "an annotation is not a JSON object")
            if annotation.get("was_cancelled"):
                result.skipped += 1
                continue
            result.annotations.append(_annotation(where, task_id, data, annotation, Path(name).name))
        result.not_annotated += not annotations
    return result


def _tasks(path: str) -> Iterator[tuple[str, dict]]:
    """The tasks of an export file, each with its id (its position, from 1, if it has none)."""
    name = display_name(path)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            content = json.load(handle)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", path=name, line=exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"invalid UTF-8 at byte {exc.start}", path=name) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=name) from None
    if not isinstance(content, list):
        raise InputError("not a Label Studio JSON export (a list of tasks); export the project as JSON, "
                         "not JSON-MIN or CSV", path=name)
    for position, task in enumerate(content, 1):
        if not isinstance(task, dict):
            raise Where(name, task=f"#{position}").error("task", "not a JSON object")
        yield str(task.get("id", f"#{position}")), task


def _annotation(where: Where, task_id: str, data: dict, annotation: dict, source: str) -> Annotation:
    """One submitted annotation of a task, checked."""
    results = annotation.get("result")
    if not isinstance(results, list):
        raise where.error("result", "missing, or not a list")
    values: dict[str, list] = {}
    for region in results:
        control = region.get("from_name") if isinstance(region, dict) else None
        if control not in CONTROLS:
            raise where.error("result", f"unknown control {control!r}; the project's labeling interface "
                                        "must be the one of 'stancekit export --label-config'")
        kind, key = CONTROLS[control]
        content = region["value"].get(key) if isinstance(region.get("value"), dict) else None
        if region.get("type") != kind or not isinstance(content, list):
            raise where.error(control, f"expected a {kind} result with a list in value.{key}")
        values[control] = content
    for task in TASKS:
        if len(values.get(task, [None])) != 1:
            raise where.error(task, f"expected one choice, got {len(values[task])}")
    return check_annotation(
        where, unit_id=data.get("unit_id", task_id), doc_id=data.get("doc_id", f"label-studio-task-{task_id}"),
        text=data.get(TEXT), annotator=_annotator(annotation.get("completed_by")),
        stance=values.get("stance", [None])[0], claim_type=values.get("claim_type", [None])[0],
        secondary=values.get(SECONDARY, []), notes="\n".join(map(str, values.get(NOTES, []))),
        source=str(data.get("source") or source))


def _annotator(completed_by: object) -> object:
    """Who annotated: the email of an expanded user, else ``label-studio-user-ID``."""
    if isinstance(completed_by, dict):
        return completed_by.get("email") or _annotator(completed_by.get("id"))
    if isinstance(completed_by, int) and not isinstance(completed_by, bool):
        return f"label-studio-user-{completed_by}"
    return completed_by
