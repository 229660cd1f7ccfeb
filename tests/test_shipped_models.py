"""The shipped models as a user gets them: loaded offline from the installed files, scoring as recorded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stancekit.artifacts import read_config, shipped_models
from stancekit.data import load_records, read_split_assignment, split_records
from stancekit.evaluation.results import evaluate_model
from stancekit.labels import TASKS
from stancekit.registry import DEFAULT_MODEL, load_model, resolve

from conftest import cli_env, needs_mpnet

SHIPPED = sorted(shipped_models())
NEEDS_MPNET = {"accurate"}


def _needing_parts(name: str):
    return pytest.param(name, marks=needs_mpnet) if name in NEEDS_MPNET else name


@pytest.fixture(scope="module")
def test_split() -> list[dict]:
    return split_records(load_records(), read_split_assignment())["test"]


def test_the_shipped_models_are_the_documented_ones():
    assert SHIPPED == ["accurate", "distilled", "ensemble", "tfidf", "transformer"]
    assert DEFAULT_MODEL in SHIPPED


@pytest.mark.parametrize("name", [_needing_parts(name) for name in SHIPPED])
def test_a_shipped_model_scores_the_test_split_as_its_config_records(name, test_split):
    recorded = read_config(resolve(name))["held_out"]["test"]
    result = evaluate_model(load_model(name), test_split)
    for task in TASKS:
        # the same files on another CPU may take another kernel (bf16 or fp32, int8 or not)
        assert result.tasks[task].macro_f1 == pytest.approx(recorded[task]["macro_f1"], abs=0.01)


@needs_mpnet
def test_the_accurate_tier_fits_its_size_limit_and_classifies_offline_in_a_fresh_process():
    folder = resolve("accurate")
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) <= 40_000_000
    code = ("import json; from stancekit import classify; "
            "rows = classify(['Death to the dictator!', 'The parliament will meet on Sunday.'], model='accurate'); "
            "print(json.dumps([[row.stance, row.model] for row in rows]))")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(),
                             timeout=600)
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout) == [["opposition", "accurate"], ["neutral", "accurate"]]


def test_the_default_scores_offline_in_a_fresh_process_without_torch_or_transformers():
    code = ("import sys; from stancekit import classify; row = classify('Death to the dictator!'); "
            "print(row.model, row.stance, 'torch' in sys.modules, 'transformers' in sys.modules)")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(),
                             timeout=300)
    assert process.returncode == 0, process.stderr
    assert process.stdout.split() == [DEFAULT_MODEL, "opposition", "False", "False"]
