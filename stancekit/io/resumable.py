"""Output that survives an interrupt: written through ``OUT.partial``, continued where it stopped.

Output goes to a ``.partial`` file beside the destination and is moved into place
(``files.publish``) only when the job completes; a ``.progress`` file beside it records
how many input records are safely written and a fingerprint of the job, which is what a
resumed job checks and continues from.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Callable

from ..errors import InputError
from ..files import atomic_write_text, publish
from .readers import BadRecord
from .writers import Writer


@dataclass
class Progress:
    """How far a resumable job got, the output's safe length in bytes, and the job's fingerprint."""

    records_done: int = 0
    output_bytes: int = 0
    rejects_bytes: int = 0
    job: dict = field(default_factory=dict)


class ResumableOutput:
    """An output file written through ``OUT.partial`` and moved into place on ``commit``.

    ``make_writer(stream, write_header)`` makes the writer of the output format (the header,
    if the format has one, is written only when the output starts empty). After every
    ``checkpoint`` the ``OUT.progress`` file records how many input records are fully
    written. ``resume=True`` continues from that point: the partial file is cut back to its
    last checkpoint and the caller skips ``progress.records_done`` records. ``job``
    describes everything that shapes the output (model, options, inputs); resuming a job
    whose description differs is refused, naming what differs. ``rejects`` is a JSON Lines
    file of the input records that were skipped, written and committed alongside.
    """

    def __init__(self, path: str | Path, make_writer: Callable[[IO[str], bool], Writer], resume: bool = False,
                 rejects: str | Path | None = None, job: dict | None = None) -> None:
        self.path = Path(path)
        self.partial = _beside(self.path, ".partial")
        self.progress_path = _beside(self.path, ".progress")
        self.rejects_path = Path(rejects) if rejects else None
        job = job or {}
        self.progress = self._read_progress(job) if resume else Progress(job=job)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.stream = self._open(self.partial, self.progress.output_bytes)
        self.rejects_stream = (self._open(_beside(self.rejects_path, ".partial"), self.progress.rejects_bytes)
                               if self.rejects_path else None)
        self.writer = make_writer(self.stream, self.progress.output_bytes == 0)

    def _read_progress(self, job: dict) -> Progress:
        if not self.partial.exists() or not self.progress_path.exists():
            return Progress(job=job)
        try:
            progress = Progress(**json.loads(self.progress_path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise InputError(f"cannot resume: unreadable progress file ({exc}); delete it to start over",
                             path=self.progress_path) from None
        differences = job_differences(job, progress.job)
        if differences:
            raise InputError(f"cannot resume: the job differs from the interrupted one in "
                             f"{', '.join(differences)}; run it as before, or without `resume` to start over",
                             path=self.path)
        return progress

    @staticmethod
    def _open(path: Path, keep_bytes: int) -> io.TextIOWrapper:
        handle = open(path, "r+b" if keep_bytes else "wb")
        handle.truncate(keep_bytes)
        handle.seek(keep_bytes)
        return io.TextIOWrapper(handle, encoding="utf-8", newline="")

    def reject(self, bad: BadRecord) -> None:
        """Record a skipped input record in the rejects file, if there is one."""
        if self.rejects_stream is not None:
            self.rejects_stream.write(json.dumps({"file": bad.error.path, "line": bad.error.line,
                                                 "error": bad.error.reason, "raw": bad.raw},
                                                ensure_ascii=False) + "\n")

    def checkpoint(self, records_done: int) -> None:
        """Flush the output and record that ``records_done`` input records are written."""
        self.stream.flush()
        self.progress.records_done = records_done
        self.progress.output_bytes = self.stream.buffer.tell()
        if self.rejects_stream is not None:
            self.rejects_stream.flush()
            self.progress.rejects_bytes = self.rejects_stream.buffer.tell()
        atomic_write_text(self.progress_path, json.dumps(asdict(self.progress)))

    def commit(self) -> None:
        """Close the output and move it into place; remove the progress file."""
        self.close()
        publish(self.partial, self.path)
        if self.rejects_path is not None:
            publish(_beside(self.rejects_path, ".partial"), self.rejects_path)
        self.progress_path.unlink(missing_ok=True)

    def discard(self) -> None:
        """Close and delete everything written (after an error): no partial output remains."""
        self.close()
        for path in (self.partial, self.progress_path, self.rejects_path and _beside(self.rejects_path, ".partial")):
            if path is not None:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        """Close without committing (an interrupted job), keeping what a resumed job needs."""
        for stream in (self.stream, self.rejects_stream):
            if stream is not None:
                stream.close()


def job_differences(job: dict, saved: dict) -> list[str]:
    """The keys in which a job's fingerprint differs from the one saved by an earlier run, sorted."""
    return [key for key in sorted(set(job) | set(saved)) if job.get(key) != saved.get(key)]


def _beside(path: Path, suffix: str) -> Path:
    """``path`` with ``suffix`` added to its name (``out.jsonl`` → ``out.jsonl.partial``)."""
    return path.with_name(path.name + suffix)
