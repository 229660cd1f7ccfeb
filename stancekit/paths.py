"""Where stancekit finds its shipped files, in a source checkout and in an installed wheel.

A wheel carries the top-level ``annotations/`` and ``models/`` folders inside the
package as ``stancekit/_data/``; a source checkout has them beside the package.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED_DIR = PACKAGE_DIR / "_data"
_CHECKOUT_DIR = PACKAGE_DIR.parent


def shipped_path(relative: str) -> Path:
    """Return the path of a shipped file or folder such as ``annotations/schema.json``.

    Raises FileNotFoundError when neither the installed package nor the source
    checkout holds it.
    """
    for base in (_BUNDLED_DIR, _CHECKOUT_DIR):
        candidate = base / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"stancekit's shipped file {relative!r} is missing from "
                            f"{_BUNDLED_DIR} and {_CHECKOUT_DIR}; reinstall stancekit")


def schema_path() -> Path:
    """The JSON Schema of one annotation record."""
    return shipped_path("annotations/schema.json")


def models_dir() -> Path:
    """The folder that holds the shipped models, one sub-folder each."""
    return shipped_path("models")

