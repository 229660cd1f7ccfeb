"""The on-disk layout shared by every saved model: a config, a checksum manifest and a model card.

A model folder holds ``config.json`` (kind, name, version, label-scheme version, label
sets and the model's own settings), its weight files in safe formats, ``MODEL_CARD.md``
and ``manifest.json`` with the SHA-256 of every other file (a nested model folder, such
as an ensemble's member, has its own manifest, whose hash the ensemble's config holds).
Loading verifies the manifest before reading any weights, so a tampered or truncated
file is refused. A model's identity in a job is the SHA-256 of its manifest
(``model_digest``), computed here and nowhere else. The shipped models are the model
folders under ``models/`` (``shipped_models``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Mapping

from .errors import ModelError, SchemeVersionError
from .labels import get_scheme
from .paths import models_dir

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


def read_manifest(folder: Path, purpose: str = "") -> dict[str, str]:
    """The files a model folder's manifest lists, relative path → SHA-256; ModelError (ending with
    ``purpose``, what the manifest was needed for) when it is missing or unreadable."""
    manifest_path = folder / MANIFEST_FILE
    try:
        listed = json.loads(manifest_path.read_text(encoding="utf-8"))["sha256"]
        if not isinstance(listed, dict):
            raise TypeError("no table of checksums")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{manifest_path}: missing or unreadable checksum manifest ({exc}){purpose}") from None
    return listed


def damaged_file(folder: Path, hashes: Mapping[str, str]) -> tuple[Path, str] | None:
    """The first of the files ``hashes`` lists (path relative to ``folder`` → SHA-256) that is
    ``"missing"`` or whose content ``"differs"``, as (path, which); None when every file matches."""
    for relative, expected in hashes.items():
        path = folder / relative
        if not path.is_file():
            return path, "missing"
        if sha256_file(path) != expected:
            return path, "differs"
    return None


def verify_manifest(folder: Path) -> None:
    """Raise ModelError unless every file listed in the manifest exists with its recorded checksum."""
    damaged = damaged_file(folder, read_manifest(folder))
    if damaged is None:
        return
    path, which = damaged
    if which == "missing":
        raise ModelError(f"{path}: file listed in the manifest is missing")
    raise ModelError(f"{path}: checksum mismatch: the file is damaged or was modified after the model was saved")


def model_files(folder: Path) -> set[str]:
    """The files a saved model consists of, as paths relative to ``folder``: those its manifest lists,
    the manifest, and the files of the model folders nested in it (an ensemble's members)."""
    files = {*read_manifest(folder, ", so the model's files cannot be told from others"), MANIFEST_FILE}
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


def load_config(folder: Path) -> dict:
    """A model folder's config as saved, without verifying any file (its kind, name and version
    before loading); ModelError when the folder has no readable config."""
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            raise TypeError("not a JSON object")
    except (OSError, ValueError, TypeError) as exc:
        raise ModelError(f"{folder}: not a stancekit model folder (no readable {CONFIG_FILE}: {exc})") from None
    return config


def read_config(folder: Path, expected_kind: str | None = None, verify: bool = True) -> dict:
    """Return the config of a model folder, refusing another kind or label-scheme version; with
    ``verify`` (before loading weights) only once every file matches its manifest."""
    if verify:
        verify_manifest(folder)
    config = load_config(folder)
    if expected_kind is not None and config.get("kind") != expected_kind:
        raise ModelError(f"{folder}: holds a {config.get('kind')!r} model, not a {expected_kind!r} model")
    scheme = get_scheme()
    if config.get("scheme_version") != scheme.version:
        raise SchemeVersionError(config.get("name", str(folder)), str(config.get("scheme_version")),
                                 scheme.version)
    return config


def model_kind(folder: Path) -> str:
    """Return the ``kind`` recorded in a model folder's config (without verifying weights)."""
    kind = load_config(folder).get("kind")
    if not isinstance(kind, str):
        raise ModelError(f"{folder}: not a stancekit model folder (its {CONFIG_FILE} names no model kind)")
    return kind


def shipped_models() -> dict[str, Path]:
    """The models shipped with stancekit, by name (the name of each one's folder)."""
    try:
        folder = models_dir()
    except FileNotFoundError:
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if (p / CONFIG_FILE).is_file()}


def shipped_name(folder: Path) -> str | None:
    """The name of the shipped model stored in ``folder``, or None if it is not a shipped model."""
    folder = Path(folder).resolve()
    return next((name for name, path in shipped_models().items() if path.resolve() == folder), None)
