"""Shared fixtures: labeled records, files, and the CLI run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).parent / "data"
SEEDS_DIR = DATA_DIR / "seeds"


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
