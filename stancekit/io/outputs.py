"""The one check every command that writes a file makes first: no output is one of its inputs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..errors import InputError
from .lines import STDIN


def check_distinct_paths(inputs: Iterable[str], outputs: Iterable[str | None]) -> None:
    """Refuse an output path that is one of the inputs or another output (links resolved)."""
    seen: dict[tuple, str] = {}
    for path in inputs:
        if path != STDIN and Path(path).exists():
            seen[_identity(path)] = path
    for path in outputs:
        if path is None or path == STDIN:
            continue
        identity = _identity(path)
        if identity in seen:
            raise InputError(f"output is the same file as {seen[identity]}; choose another output path",
                             path=path)
        seen[identity] = path


def _identity(path: str) -> tuple:
    """Device and inode of an existing file, else its resolved path."""
    try:
        status = os.stat(path)
        return ("inode", status.st_dev, status.st_ino)
    except OSError:
        return ("path", str(Path(path).resolve()))
