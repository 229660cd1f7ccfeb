"""The on-disk layout shared by every saved model: a config, a checksum manifest and a model card.

A model folder holds ``config.json`` (kind, name, version, label-scheme version, label
sets and the model's own settings), its weight files in safe formats, ``MODEL_CARD.md``
and ``manifest.json`` with the SHA-256 of every other file (a nested model folder, such
as an ensemble's member, has its own manifest, whose hash the ensemble's config holds).
Loading verifies the manifest before reading any weights, so a tampered or truncated
file is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import ModelError, SchemeVersionError
from .labels import get_scheme

CONFIG_FILE = "config.json"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "MODEL_CARD.md"


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: Path, content: dict) -> None:
    """Write ``content`` as indented UTF-8 JSON."""
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_manifest(folder: Path) -> None:
    """Record the SHA-256 of every file in ``folder`` in ``manifest.json``, except the manifest and
    the files of nested model folders (an ensemble's members), which have manifests of their own."""
    nested = {p.parent for p in folder.rglob(MANIFEST_FILE) if p.parent != folder}
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_FILE
                   and nested.isdisjoint(p.parents))
    write_json(folder / MANIFEST_FILE,
               {"sha256": {p.relative_to(folder).as_posix(): sha256_file(p) for p in files}})


def verify_manifest(folder: Path) -> None:
    """Raise ModelError unless every file listed in the manifest exists with its recorded checksum."""
    manifest_path = folder / MANIFEST_FILE
    try:
        listed = json.loads(manifest_path.read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{manifest_path}: missing or unreadable checksum manifest ({exc})") from None
    for relative, expected in listed.items():
        path = folder / relative
        if not path.is_file():
            raise ModelError(f"{path}: file listed in the manifest is missing")
        if sha256_file(path) != expected:
            raise ModelError(f"{path}: checksum mismatch: the file is damaged or was modified "
                             "after the model was saved")


def model_files(folder: Path) -> set[str]:
    """The files a saved model consists of, as paths relative to ``folder``: those its manifest lists,
    the manifest, and the files of the model folders nested in it (an ensemble's members)."""
    manifest_path = folder / MANIFEST_FILE
    try:
        listed = json.loads(manifest_path.read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{manifest_path}: missing or unreadable checksum manifest ({exc}), so the model's "
                         "files cannot be told from others") from None
    files = {*listed, MANIFEST_FILE}
    for manifest in folder.rglob(MANIFEST_FILE):
        nested = manifest.parent
        if nested != folder and is_model_folder(nested):
            prefix = nested.relative_to(folder).as_posix()
            files.update(f"{prefix}/{name}" for name in model_files(nested))
    return files


def is_model_folder(folder: Path) -> bool:
    """True if ``folder`` holds a saved model (a config and a checksum manifest)."""
    return (folder / CONFIG_FILE).is_file() and (folder / MANIFEST_FILE).is_file()


def model_digest(folder: Path) -> str:
    """The SHA-256 of a model folder's manifest: one hash that changes when any of its files does."""
    try:
        return sha256_file(folder / MANIFEST_FILE)
    except OSError as exc:
        raise ModelError(f"{folder / MANIFEST_FILE}: missing or unreadable checksum manifest ({exc.strerror})") from None


def read_config(folder: Path, expected_kind: str | None = None) -> dict:
    """Verify ``folder`` and return its config, refusing another kind or label-scheme version."""
    verify_manifest(folder)
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder / CONFIG_FILE}: unreadable model config ({exc})") from None
    if expected_kind is not None and config.get("kind") != expected_kind:
        raise ModelError(f"{folder}: holds a {config.get('kind')!r} model, not a {expected_kind!r} model")
    scheme = get_scheme()
    if config.get("scheme_version") != scheme.version:
        raise SchemeVersionError(config.get("name", str(folder)), str(config.get("scheme_version")),
                                 scheme.version)
    return config


def model_kind(folder: Path) -> str:
    """Return the ``kind`` recorded in a model folder's config (without verifying weights)."""
    try:
        return json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))["kind"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{folder}: not a stancekit model folder (no readable {CONFIG_FILE}: {exc})") from None
