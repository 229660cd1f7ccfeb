"""The report job: documents read from a file, labeled sentence by sentence with evidence, and written
as one HTML page (``views.report`` renders it)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..files import atomic_write_text
from ..io.lines import display_name, read_lines
from ..io.readers import InputRecord, read_inputs
from ..registry import DEFAULT_MODEL, load_model
from ..views.report import Document, render
from .scoring import document_prediction


def read_documents(path: str, text_field: str = "text") -> list[Document]:
    """The documents of a report's input: a .txt file is one document, a .jsonl file one per record.

    Both are read through the one line reader (UTF-8, byte-order mark, NUL bytes); a .txt
    document's line endings become ``\\n``. A JSON Lines record's title is its ``title`` or
    ``id`` field, else its line number.
    """
    name = display_name(path)
    suffix = Path(path).suffix.lower()
    if not Path(path).is_file():
        raise InputError("no such file", path=name)
    if suffix == ".txt":
        text = "".join(read_lines(path))
        return [Document(Path(path).name, text.replace("\r\n", "\n").replace("\r", "\n"))]
    if suffix not in (".jsonl", ".json"):
        raise InputError("a report takes a .txt document or a .jsonl file of documents", path=name)
    return [Document(str(record.fields.get("title") or record.fields.get("id") or f"{name}, line {record.line}"),
                     record.text)
            for record in read_inputs(path, "jsonl", text_field) if isinstance(record, InputRecord)]


def write_report(documents: list[Document], output: str | Path, model: str | Path | None = None) -> Path:
    """Label ``documents`` sentence by sentence with evidence and write the HTML report to ``output``."""
    loaded = load_model(model or DEFAULT_MODEL)
    predicted = [document_prediction(loaded, document.text, explain=True) for document in documents]
    atomic_write_text(Path(output), render(documents, predicted, f"{loaded.name} {loaded.version}"))
    return Path(output)
