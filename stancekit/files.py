"""The one way stancekit writes a result: whole or not at all, with the user's usual permissions.

Every file and folder stancekit writes is built under a temporary name beside its
destination (same folder, so the same file system), written to disk (fsync), and renamed
into place in one step; if anything fails on the way, the temporary file or folder is
removed and the destination is left as it was. ``atomic_output`` writes a file,
``atomic_folder`` a folder, and ``publish`` moves a file written elsewhere (a resumable
job's ``.partial`` output) into place the same way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator


@contextlib.contextmanager
def atomic_output(path: str | Path, binary: bool = False) -> Iterator[IO]:
    """Open a temporary file beside ``path`` (UTF-8 text, or bytes with ``binary``) and, when the
    block succeeds, move it to ``path`` with ``publish``; when it fails, delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp creates it private
        with open(descriptor, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as handle:
            yield handle
        publish(Path(temporary), path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a reader never sees a half-written file)."""
    with atomic_output(path) as handle:
        handle.write(text)


@contextlib.contextmanager
def atomic_folder(path: str | Path, install: Callable[[Path, Path], None] | None = None) -> Iterator[Path]:
    """Yield a new, empty folder beside ``path`` to fill; when the block succeeds, give it and
    everything in it the user's usual permissions, write it to disk and move it to ``path``; when
    anything fails, remove it.

    ``install(staging, path)`` does the move: by default a rename, for a ``path`` that does not
    exist; a caller that replaces an existing folder, or keeps parts of it, passes its own.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield staging
        mask = current_umask()
        for item in [*staging.rglob("*"), staging]:
            item.chmod((0o777 if item.is_dir() else 0o666) & ~mask)
            _sync(item)
        (install or Path.rename)(staging, path)
        _sync(path.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already once installed


def publish(written: Path, path: Path) -> None:
    """Write the finished file ``written`` to disk and rename it to ``path`` in one step: a reader
    sees the old file or the new one, whole."""
    _sync(written)
    os.replace(written, path)
    _sync(path.parent)


def _sync(path: Path) -> None:
    """fsync a file or folder (a folder: so that the names in it survive a crash)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # a folder cannot be opened on every platform; its files are synced all the same
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def current_umask() -> int:
    """The process's file-creation mask, read without changing it (setting it to read it would
    leave a moment in which another thread creates files with the wrong mask).

    Linux reports it in ``/proc/self/status``; elsewhere it is read off a file created with mode
    0o777 in a temporary folder.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with tempfile.TemporaryDirectory() as folder:
        probe = os.path.join(folder, "probe")
        os.close(os.open(probe, os.O_CREAT | os.O_WRONLY, 0o777))
        return 0o777 & ~os.stat(probe).st_mode
