"""Progress bars on stderr, shown only when stderr is a terminal and not silenced."""

from __future__ import annotations

import sys


def progress_enabled(quiet: bool = False) -> bool:
    """True when a progress bar should be drawn: stderr is a terminal and ``quiet`` is off."""
    return not quiet and sys.stderr.isatty()


def progress_bar(total: int | None = None, description: str = "", quiet: bool = False, unit: str = "it"):
    """Return a tqdm bar on stderr (disabled, but still countable, when not shown)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit=unit, file=sys.stderr,
                disable=not progress_enabled(quiet), dynamic_ncols=True, leave=False)

