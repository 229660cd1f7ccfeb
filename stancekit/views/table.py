"""The table view: labeled records as fixed-width rows for reading in a terminal (``--format table``)."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Iterable

from ..labels import TASKS
from ..prediction import EVIDENCE_DECIMALS, review_flag


class TableWriter:
    """Writes a fixed-width table for reading in a terminal: labels, confidences, a flag and the text.

    The flag is ``review`` for a low stance confidence and ``out of scope`` for text the
    models do not cover (``prediction.review_flag``). With ``show_source`` (several inputs,
    or documents split into sentences) a ``source`` column names each row's input file (its
    name, without folders) and line (the document's line, for a sentence). Records with
    evidence get one more line per label listing it (+ toward the label, - against), weights
    to ``EVIDENCE_DECIMALS``. The prediction fields' names start with ``prefix``.
    """

    SOURCE_WIDTH = 28

    def __init__(self, stream: IO[str], text_field: str = "text", prefix: str = "", show_source: bool = False,
                 **_: object) -> None:
        self.stream = stream
        self.text_field = text_field
        self.prefix = prefix
        self.show_source = show_source
        source = f"{'source':<{self.SOURCE_WIDTH}}  " if show_source else ""
        stream.write(f"{'stance':<11} {'conf':>5}  {'claim_type':<20} {'conf':>5}  {'flag':<12}  {source}text\n")

    def write(self, records: Iterable[dict]) -> None:
        """Write a batch of records, one row each."""
        p = self.prefix
        for record in records:
            text = " ".join(str(record.get(self.text_field, "")).split())
            text = text if len(text) <= 90 else text[:87] + "..."
            flag = review_flag(record[p + "stance_confidence"], record[p + "in_scope"])
            source = f"{self._source(record):<{self.SOURCE_WIDTH}}  " if self.show_source else ""
            self.stream.write(f"{record[p + 'stance']:<11} {record[p + 'stance_confidence']:>5.2f}  "
                              f"{record[p + 'claim_type']:<20} {record[p + 'claim_confidence']:>5.2f}  "
                              f"{flag:<12}  {source}{text}\n")
            evidence = record.get(p + "evidence")
            for task in TASKS if evidence else ():
                listed = ", ".join(f"{item['weight']:+.{EVIDENCE_DECIMALS}f} {item['text']!r}"
                                   for item in evidence[task]) or "none"
                self.stream.write(f"{'':<11}   {task} evidence: {listed}\n")

    def _source(self, record: dict) -> str:
        """``NAME:LINE`` of a record, its start cut off when it is wider than the column."""
        source = f"{Path(record[self.prefix + 'input_file']).name}:{record[self.prefix + 'input_line']}"
        return source if len(source) <= self.SOURCE_WIDTH else "…" + source[-self.SOURCE_WIDTH + 1:]
