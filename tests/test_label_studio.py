"""The Label Studio round trip against a real server: export, annotate as two people, export, import, train.

The server runs from its own virtual environment (``make label-studio``, which ``make test``
runs first; created here if it is missing), on a free loopback port with its SQLite
database in a temporary folder, once per test session. A failed install or start fails
the test with the reason: it is never skipped.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import cli_env

ROOT = Path(__file__).resolve().parents[1]
DRIVER = Path(__file__).with_name("label_studio_driver.py")
USERS = [{"email": "anna@example.org", "password": "anna-password-1"},
         {"email": "ben@example.org", "password": "ben-password-2"}]
SAMPLES = sorted((ROOT / "stancekit" / "samples").glob("*.txt"))


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _label_studio_venv() -> Path:
    """The Label Studio virtual environment, installed by ``make label-studio`` if it is missing."""
    venv = Path(os.environ.get("STANCEKIT_LABEL_STUDIO_VENV", ROOT / ".venv-labelstudio"))
    if not (venv / ".installed").exists():
        made = subprocess.run(["make", "-C", str(ROOT), "label-studio", f"LABEL_STUDIO_VENV={venv}"],
                              capture_output=True, text=True, timeout=1200)
        if made.returncode != 0:
            pytest.fail(f"installing Label Studio failed:\n{_tail(made.stdout + made.stderr)}")
    return venv


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory):
    """``(url, python)``: a running Label Studio server with two users, and its venv's python."""
    venv = _label_studio_venv()
    data = tmp_path_factory.mktemp("label-studio-data")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LABEL_STUDIO_", "DJANGO_"))}
    command = [str(venv / "bin" / "label-studio")]
    for user in USERS:
        made = subprocess.run([*command, "init", "--data-dir", str(data), "--username", user["email"],
                               "--password", user["password"]], capture_output=True, text=True, env=env,
                              timeout=600)
        if made.returncode != 0:
            pytest.fail(f"creating Label Studio user {user['email']} failed:\n{_tail(made.stdout + made.stderr)}")
    port = _free_port()
    log_path = data / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([*command, "start", "--no-browser", "--data-dir", str(data), "--port", str(port),
                                   "--internal-host", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Label Studio did not answer on {url}/health:\n{_tail(log_path.read_text())}")
            time.sleep(1)
        yield url, venv / "bin" / "python"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _plan(tasks: list[dict]) -> list[dict]:
    """Anna labels tasks 0..n-3 as the model did (with a note and secondary claim types on task 0) and
    skips task n-2; Ben labels every even task up to 14, changing the claim type of every third of his,
    and skips task n-1."""
    annotations = []
    n = len(tasks)
    for position, task in enumerate(tasks):
        model = {r["from_name"]: r["value"]["choices"][0] for r in task["predictions"][0]["result"]}
        if position < n - 2:
            extra = {}
            if position == 0:
                secondary = [c for c in ("threat", "economic") if c != model["claim_type"]]
                extra = {"notes": "checked against the guidelines"}
                model = {**model, "secondary_claim_types": secondary}
            annotations.append({"user": 0, "task": position, "labels": model, **extra})
        if position % 2 == 0 and position <= 14:
            changed = dict(model)
            changed.pop("secondary_claim_types", None)
            if position % 3 == 0:
                changed["claim_type"] = "threat" if model["claim_type"] == "none" else "none"
            annotations.append({"user": 1, "task": position, "labels": changed})
    annotations += [{"user": 0, "task": n - 2, "skip": True}, {"user": 1, "task": n - 1, "skip": True}]
    return annotations


def test_round_trip_through_a_real_label_studio_server(label_studio, cli, tmp_path):
    url, python = label_studio
    exported = cli("export", *SAMPLES, "--split-sentences", "-m", "tfidf", "--to", "label-studio",
                   "-o", tmp_path / "tasks.json")
    assert exported.returncode == 0, exported.stderr
    assert cli("export", "--label-config", "-o", tmp_path / "config.xml").returncode == 0
    tasks = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) >= 16
    plan = {"url": url, "users": USERS, "config": str(tmp_path / "config.xml"), "tasks": str(tmp_path / "tasks.json"),
            "export": str(tmp_path / "export.json"), "annotations": _plan(tasks)}
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    driven = subprocess.run([str(python), str(DRIVER), str(tmp_path / "plan.json")], capture_output=True,
                            text=True, timeout=600, env=cli_env())
    assert driven.returncode == 0, _tail(driven.stdout + driven.stderr)

    imported = cli("import", tmp_path / "export.json", "--from", "label-studio", "-o", tmp_path / "labeled.jsonl",
                   "--agreement", tmp_path / "agreement.json")
    assert imported.returncode == 0, imported.stderr
    submitted = [a for a in plan["annotations"] if not a.get("skip")]
    ben = [a for a in submitted if a["user"] == 1]
    records = [json.loads(line) for line in (tmp_path / "labeled.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(submitted)
    assert "left out: 2 skipped annotations, 0 units without annotations" in imported.stderr
    assert {r["annotator"] for r in records} == {"label-studio-user-1", "label-studio-user-2"}
    assert all(r["origin"] == "external" for r in records)
    first_unit = tasks[0]["data"]["unit_id"]
    double = [r for r in records if r["id"].startswith(first_unit + "@")]
    assert len(double) == 2 and {r["doc_id"] for r in double} == {tasks[0]["data"]["doc_id"]}
    annas_first = next(r for r in double if r["annotator"] == "label-studio-user-1")
    assert annas_first["notes"] == "checked against the guidelines"
    assert annas_first["secondary_claim_types"] == plan["annotations"][0]["labels"]["secondary_claim_types"]

    pair = json.loads((tmp_path / "agreement.json").read_text(encoding="utf-8"))["pairs"][0]
    changed = sum(1 for a in ben if a["task"] % 3 == 0)
    assert pair["units"] == len(ben)
    assert pair["labels"]["stance"] == {"agreement": 1.0, "kappa": 1.0}
    assert pair["labels"]["claim_type"]["agreement"] == pytest.approx(1 - changed / len(ben))
    assert pair["labels"]["claim_type"]["kappa"] < 1
    assert "claim_type kappa" in imported.stderr

    validated = cli("validate", tmp_path / "labeled.jsonl")
    assert validated.returncode == 0, validated.stdout
    trained = cli("train", "--model", "tfidf", "--data", tmp_path / "labeled.jsonl", "--out", tmp_path / "model")
    assert trained.returncode == 0, trained.stderr
    config = json.loads((tmp_path / "model" / "config.json").read_text(encoding="utf-8"))
    assert config["training"]["data"] == [str(tmp_path / "labeled.jsonl")]
