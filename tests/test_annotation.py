"""The annotation loop without a server: export formats, imports and their errors, sheets, agreement,
suggest and audit (the round trip through a real Label Studio is tests/test_label_studio.py)."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

from stancekit.annotation.suggest import select_batch
from stancekit.data import corpus_files, load_records
from stancekit.labels import get_scheme
from stancekit.registry import load_model

from conftest import TINY_TRAIN, write_jsonl

DOCUMENTS = [
    {"id": "art-1", "source_name": "wire", "text": "The parliament will meet on Sunday. The rial fell to a record "
                                                   "low against the dollar as prices soared."},
    {"id": "art-2", "source_name": "blog", "text": "Join the nationwide strike on Saturday! The martyr commander "
                                                   "will live forever in our hearts."},
]


def choices(name: str, values: list) -> dict:
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": values}}


def annotation(user, stance="neutral", claim_type="none", cancelled=False, extra=()) -> dict:
    result = [choices("stance", [stance]), choices("claim_type", [claim_type]), *extra]
    return {"id": 1, "completed_by": user, "result": result, "was_cancelled": cancelled}


def task(task_id: int, annotations: list, text: str | None = None, unit: str | None = None) -> dict:
    data = {"text": text or TINY_TRAIN[task_id % len(TINY_TRAIN)][0]}
    if unit:
        data.update(unit_id=unit, doc_id=f"doc-{unit}")
    return {"id": task_id, "data": data, "annotations": annotations, "predictions": []}


def write_export(path: Path, tasks: list) -> Path:
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# export ------------------------------------------------------------------------------------------

def test_label_config_has_one_choice_per_label_several_secondary_and_a_note(cli):
    process = cli("export", "--label-config")
    assert process.returncode == 0, process.stderr
    view = ElementTree.fromstring(process.stdout)
    controls = {c.get("name"): c for c in view if c.tag in ("Choices", "TextArea")}
    scheme = get_scheme()
    assert [c.get("value") for c in controls["stance"]] == list(scheme.stances)
    assert [c.get("value") for c in controls["claim_type"]] == list(scheme.claim_types)
    assert controls["stance"].get("choice") == controls["claim_type"].get("choice") == "single"
    assert controls["secondary_claim_types"].get("choice") == "multiple"
    assert "none" not in [c.get("value") for c in controls["secondary_claim_types"]]
    assert controls["notes"].tag == "TextArea"
    assert {c.get("toName") for c in controls.values()} == {view.find("Text").get("name")}


def test_label_studio_tasks_keep_ids_offsets_input_fields_and_the_models_labels(cli, tmp_path):
    source = write_jsonl(tmp_path / "docs.jsonl", DOCUMENTS)
    process = cli("export", source, "--split-sentences", "-m", "tfidf", "--to", "label-studio", "-o", "tasks.json")
    assert process.returncode == 0, process.stderr
    tasks = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert [t["data"]["unit_id"] for t in tasks] == ["art-1-s0", "art-1-s1", "art-2-s0", "art-2-s1"]
    classified = read_jsonl(tmp_path / "docs.jsonl")
    for item in tasks:
        data = item["data"]
        document = next(d for d in classified if d["id"] == data["doc_id"])
        assert document["text"][data["start"]:data["end"]] == data["text"]
        assert data["source_name"] == document["source_name"]
        prediction = item["predictions"][0]
        assert prediction["model_version"] == f"tfidf {load_model('tfidf').version}"
        labels = {r["from_name"]: r["value"]["choices"] for r in prediction["result"]}
        assert set(labels) == {"stance", "claim_type"}
        assert prediction["score"] == min(r["score"] for r in prediction["result"])
    scored = cli("classify", tmp_path / "docs.jsonl", "--split-sentences", "-m", "tfidf", "--prefix", "p_")
    predicted = [json.loads(line) for line in scored.stdout.splitlines()]
    assert [[r["value"]["choices"][0] for r in t["predictions"][0]["result"]] for t in tasks] == \
        [[p["p_stance"], p["p_claim_type"]] for p in predicted]


# import from Label Studio ------------------------------------------------------------------------

def test_import_keeps_annotators_counts_skips_and_passes_validate(cli, tmp_path):
    note = {"from_name": "notes", "to_name": "text", "type": "textarea", "value": {"text": ["quoted speech"]}}
    secondary = choices("secondary_claim_types", ["threat", "economic"])
    export = write_export(tmp_path / "export.json", [
        task(1, [annotation({"id": 7, "email": "ana@example.org"}, "regime", "legitimacy", extra=[note, secondary])],
             unit="u1"),
        task(2, [annotation(8, cancelled=True)], unit="u2"),
        task(3, [], unit="u3"),
        task(4, [annotation(8, "opposition", "repression")]),
    ])
    process = cli("import", export, "--from", "label-studio", "-o", "labeled.jsonl")
    assert process.returncode == 0, process.stderr
    records = read_jsonl(tmp_path / "labeled.jsonl")
    assert [r["id"] for r in records] == ["u1", "4"]
    assert records[0]["annotator"] == "ana@example.org" and records[1]["annotator"] == "label-studio-user-8"
    assert records[0]["notes"] == "quoted speech"
    assert records[0]["secondary_claim_types"] == ["threat", "economic"]
    assert records[0]["doc_id"] == "doc-u1" and records[1]["doc_id"] == "label-studio-task-4"
    assert {r["origin"] for r in records} == {"external"} and {r["source"] for r in records} == {"export.json"}
    assert "from 4 units read); left out: 1 skipped annotation, 1 unit without annotations" in process.stderr
    assert cli("validate", tmp_path / "labeled.jsonl").returncode == 0


def test_several_annotators_give_one_record_each_and_a_kappa_table(cli, tmp_path):
    # stance: observed 3/4; chance (2·1 + 1·2 + 1·1)/16 = 5/16; kappa (12 - 5)/(16 - 5) = 7/11
    given = [("regime", "regime"), ("regime", "opposition"), ("opposition", "opposition"), ("neutral", "neutral")]
    export = write_export(tmp_path / "export.json", [
        task(i, [annotation(1, a, "none"), annotation(2, b, "none")], unit=f"u{i}") for i, (a, b) in enumerate(given)])
    process = cli("import", export, "--from", "label-studio", "-o", "labeled.jsonl", "--agreement", "agree.json")
    assert process.returncode == 0, process.stderr
    records = read_jsonl(tmp_path / "labeled.jsonl")
    assert [r["id"] for r in records[:2]] == ["u0@label-studio-user-1", "u0@label-studio-user-2"]
    assert len(records) == 8
    pair = json.loads((tmp_path / "agree.json").read_text(encoding="utf-8"))["pairs"][0]
    assert pair["annotators"] == ["label-studio-user-1", "label-studio-user-2"] and pair["units"] == 4
    assert pair["labels"]["stance"]["agreement"] == 0.75
    assert pair["labels"]["stance"]["kappa"] == pytest.approx(7 / 11)
    assert pair["labels"]["claim_type"] == {"agreement": 1.0, "kappa": None}
    table = process.stderr.splitlines()
    assert "stance kappa" in table[0] and "0.636" in table[1] and "n/a" in table[1]
    assert cli("validate", tmp_path / "labeled.jsonl").returncode == 0


@pytest.mark.parametrize("content, field, words", [
    ([task(5, [annotation(1, "royalist")])], "task 5: stance", "unknown label 'royalist'"),
    ([task(5, [{"completed_by": 1, "result": [choices("stance", ["regime"])]}])], "task 5: claim_type",
     "missing"),
    ([task(5, [{"completed_by": 1, "result": [choices("stance", ["regime", "neutral"]),
                                              choices("claim_type", ["none"])]}])], "task 5: stance",
     "expected one choice, got 2"),
    ([task(5, [annotation(1, extra=[choices("sentiment", ["Positive"])])])], "task 5: result",
     "unknown control 'sentiment'"),
    ([task(5, [annotation(1, "regime", "threat", extra=[choices("secondary_claim_types", ["threat"])])])],
     "task 5: secondary_claim_types", "must not repeat the primary claim type"),
    ([task(5, [annotation(None)])], "task 5: annotator", "missing"),
    ([task(5, [annotation(1)], text="  ")], "task 5: text", "empty"),
    ([{"id": 5, "data": {"text": "x"}}], "task 5: annotations", "missing"),
    ([{"id": 5, "annotations": []}], "task 5: data", "missing"),
    ({"tasks": []}, None, "not a Label Studio JSON export"),
])
def test_malformed_exports_are_one_line_errors_naming_task_and_field(cli, tmp_path, content, field, words):
    export = write_export(tmp_path / "export.json", [task(1, [annotation(1)])] + content
                          if isinstance(content, list) else content)
    process = cli("import", export.name, "--from", "label-studio", "-o", "labeled.jsonl")
    assert process.returncode == 2
    error = process.stderr.strip()
    assert len(error.splitlines()) == 1 and error.startswith("stancekit: error: export.json: ")
    assert (field is None or f": {field}: " in error) and words in error, error
    assert not (tmp_path / "labeled.jsonl").exists()


def test_invalid_json_names_its_line(cli, tmp_path):
    (tmp_path / "export.json").write_text('[\n {"id": 1,\n', encoding="utf-8")
    process = cli("import", "export.json", "--from", "label-studio", "-o", "labeled.jsonl")
    assert process.returncode == 2 and "export.json:3: invalid JSON" in process.stderr


# spreadsheets ------------------------------------------------------------------------------------

def fill_sheet(text: str, fills: dict[int, dict]) -> tuple[list[str], list[list[str]]]:
    """The comment rows, and the header and rows with ``fills`` (row index -> column -> value) applied."""
    parsed = list(csv.reader(io.StringIO(text)))
    comments = [row[0] for row in parsed if row and row[0].startswith("#")]
    rows = [row for row in parsed if row and not row[0].startswith("#")]
    header = rows[0]
    for index, values in fills.items():
        for column, value in values.items():
            rows[index + 1][header.index(column)] = value
    return comments, rows


def render(comments: list[str], rows: list[list[str]], delimiter: str, newline: str, bom: bool) -> bytes:
    """Write a sheet as a spreadsheet program would: Excel pads comment rows with empty cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerows([comment] + [""] * (len(rows[0]) - 1) for comment in comments)
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize("delimiter, newline, bom", [(",", "\n", False), (",", "\r\n", True), (";", "\r\n", True)],
                         ids=["plain", "excel-comma", "excel-semicolon"])
def test_sheet_round_trip_in_excels_dialects(cli, tmp_path, delimiter, newline, bom):
    source = write_jsonl(tmp_path / "docs.jsonl", DOCUMENTS)
    assert cli("export", source, "--split-sentences", "-m", "tfidf", "--to", "csv", "-o", "sheet.csv").returncode == 0
    raw = (tmp_path / "sheet.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"# status: done" in raw
    comments, rows = fill_sheet(raw.decode("utf-8-sig"), {
        0: {"status": "done", "stance": "neutral", "claim_type": "none", "notes": "agenda; no claim"},
        1: {"status": "done", "secondary_claim_types": "threat, mobilization", "annotator": "sara"},
        2: {"status": "skip"}})
    assert rows[0][:3] == ["id", "doc_id", "text"] and rows[1][0] == "art-1-s0"
    (tmp_path / "filled.csv").write_bytes(render(comments, rows, delimiter, newline, bom))
    process = cli("import", "filled.csv", "--from", "csv", "--annotator", "omid", "-o", "labeled.jsonl")
    assert process.returncode == 0, process.stderr
    records = read_jsonl(tmp_path / "labeled.jsonl")
    assert [(r["id"], r["annotator"]) for r in records] == [("art-1-s0", "omid"), ("art-1-s1", "sara")]
    assert records[0]["notes"] == "agenda; no claim" and records[0]["stance"] == "neutral"
    assert records[1]["secondary_claim_types"] == ["threat", "mobilization"]
    assert records[1]["text"] == rows[2][2] and records[1]["doc_id"] == "art-1"
    assert "left out: 1 skipped annotation, 1 unit without annotations" in process.stderr
    assert cli("validate", tmp_path / "labeled.jsonl").returncode == 0


@pytest.mark.parametrize("fills, annotator, line_field, words", [
    ({0: {"status": "finished"}}, "omid", ":8: status:", "unknown status 'finished'"),
    ({1: {"status": "done", "claim_type": "propaganda"}}, "omid", ":9: claim_type:", "unknown label 'propaganda'"),
    ({1: {"status": "done", "stance": ""}}, "omid", ":9: stance:", "missing"),
    ({0: {"status": "done"}}, "", ":8: annotator:", "missing"),
])
def test_bad_sheet_rows_are_errors_naming_line_and_column(cli, tmp_path, fills, annotator, line_field, words):
    source = write_jsonl(tmp_path / "docs.jsonl", DOCUMENTS)
    cli("export", source, "-m", "tfidf", "--to", "csv", "-o", "sheet.csv")
    comments, rows = fill_sheet((tmp_path / "sheet.csv").read_text(encoding="utf-8-sig"), fills)
    (tmp_path / "filled.csv").write_bytes(render(comments, rows, ",", "\n", False))
    options = ["--annotator", annotator] if annotator else []
    process = cli("import", "filled.csv", "--from", "csv", *options, "-o", "labeled.jsonl")
    assert process.returncode == 2
    assert f"filled.csv{line_field}" in process.stderr and words in process.stderr, process.stderr
    assert not (tmp_path / "labeled.jsonl").exists()


# suggest ---------------------------------------------------------------------------------------

def probabilities_for(stance_rows: list[list[float]], claim_rows: list[list[float]]) -> list[np.ndarray]:
    return [np.array(stance_rows), np.array(claim_rows)]


def claim_row(label: str, confidence: float) -> list[float]:
    claims = get_scheme().claim_types
    row = [(1 - confidence) / (len(claims) - 1)] * len(claims)
    row[claims.index(label)] = confidence
    return row


def test_suggest_takes_the_most_uncertain_first():
    texts = ["a sure thing about prices", "an unsure one about the strike", "a middling text on the vote"]
    picks = select_batch(texts, probabilities_for([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.6, 0.2, 0.2]],
                                                  [claim_row("none", 0.9), claim_row("none", 0.3),
                                                   claim_row("none", 0.6)]), n=2, floor=0)
    assert [p.index for p in picks] == [1, 2]
    assert picks[0].margins["stance"] == pytest.approx(0.05)


def test_suggest_asks_for_a_rare_predicted_class_and_skips_rewordings():
    texts = [f"Protesters gathered in city number {i} on Friday evening" for i in range(6)] + \
            ["Authorities blocked Instagram and WhatsApp across the country", "The budget bill passed"]
    stance = [[0.4, 0.35, 0.25]] * 6 + [[0.98, 0.01, 0.01], [0.5, 0.3, 0.2]]
    claims = [claim_row("mobilization", 0.3)] * 6 + [claim_row("censorship", 0.99), claim_row("economic", 0.5)]
    picks = select_batch(texts, probabilities_for(stance, claims), n=3, floor=1)
    chosen = [p.index for p in picks]
    assert 6 in chosen  # the only, and confident, censorship text: by its floor
    assert sum(i < 6 for i in chosen) == 1  # the six rewordings count once
    assert next(p.reason for p in picks if p.index == 6) == "floor claim_type=censorship"
    without_diversity = select_batch(texts, probabilities_for(stance, claims), n=3, floor=0, max_similarity=1.0)
    assert [p.index for p in without_diversity] == [0, 1, 2]


def test_suggest_command_writes_the_chosen_units_with_their_reasons(cli, tmp_path):
    source = write_jsonl(tmp_path / "docs.jsonl", DOCUMENTS)
    process = cli("suggest", source, "--split-sentences", "-m", "tfidf", "-n", "3", "-o", "batch.jsonl")
    assert process.returncode == 0, process.stderr
    batch = read_jsonl(tmp_path / "batch.jsonl")
    assert len(batch) == 3 and [r["suggestion"]["rank"] for r in batch] == [1, 2, 3]
    assert {r["id"] for r in batch} <= {"art-1-s0", "art-1-s1", "art-2-s0", "art-2-s1"}
    assert all(r["source_name"] and r["suggestion"]["model"] == f"tfidf {load_model('tfidf').version}" for r in batch)
    assert "chose 3 of 4 texts" in process.stderr
    exported = cli("export", "batch.jsonl", "-m", "tfidf", "--to", "label-studio", "-o", "tasks.json")
    assert exported.returncode == 0, exported.stderr
    help_text = cli("suggest", "--help").stdout
    assert "margin" in help_text and "floor" in help_text and "similarity" in help_text


# audit -------------------------------------------------------------------------------------------

KEYWORDS = {("regime", "glorification"): "martyr commander glory shrine eternal heroes",
            ("opposition", "repression"): "prisoners executed tortured Evin hanged detained",
            ("neutral", "none"): "parliament session meets Sunday agenda committee",
            ("opposition", "mobilization"): "strike join rally Saturday march square"}


@pytest.fixture(scope="module")
def flipped_sample():
    """160 made-up records in 20 documents whose words give away their labels; 6 claim types flipped."""
    rng = random.Random(3)
    fillers = "the a of in on today reports said city people week".split()
    records = []
    for i in range(160):
        (stance, claim), words = list(KEYWORDS.items())[i % len(KEYWORDS)]
        text = rng.sample(words.split(), 3) + rng.sample(fillers, 4)
        rng.shuffle(text)
        records.append({"schema_version": "1.0", "id": f"s{i}", "text": " ".join(text), "stance": stance,
                        "claim_type": claim, "doc_id": f"doc-{i // 8}", "origin": "external", "source": "test",
                        "annotator": "tester"})
    flipped = {}
    for i in rng.sample(range(160), 6):
        claims = [claim for _, claim in KEYWORDS if claim != records[i]["claim_type"]]
        flipped[records[i]["id"]] = records[i]["claim_type"]
        records[i]["claim_type"] = rng.choice(claims)
    return records, flipped


def test_audit_ranks_flipped_labels_first_with_the_right_suggestion(cli, tmp_path, flipped_sample):
    sample, original = flipped_sample
    write_jsonl(tmp_path / "sample.jsonl", sample)
    process = cli("audit", "sample.jsonl", "--folds", "4", "-o", "suspects.jsonl", "--html", "audit.html")
    assert process.returncode == 0, process.stderr
    suspects = read_jsonl(tmp_path / "suspects.jsonl")
    assert [s["rank"] for s in suspects] == list(range(1, len(suspects) + 1))
    qualities = [s["given_probability"] for s in suspects]
    assert qualities == sorted(qualities)
    top = suspects[:len(original)]
    assert {s["id"] for s in top} == set(original)
    assert all(s["task"] == "claim_type" and s["suggested"] == original[s["id"]] for s in top)
    assert process.stdout.splitlines()[0].split()[:3] == ["rank", "id", "label"]
    assert len(process.stdout.splitlines()) == 1 + min(20, len(suspects))
    page = (tmp_path / "audit.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and all(f"<code>{s['id']}</code>" in page for s in suspects)


def test_audit_needs_as_many_documents_as_folds(cli, tmp_path):
    write_jsonl(tmp_path / "few.jsonl", [dict(r, doc_id=f"d{i % 2}") for i, r in enumerate(
        load_records(corpus_files()[:1])[:10])])
    process = cli("audit", "few.jsonl", "-o", "suspects.jsonl")
    assert process.returncode == 2 and "needs at least 5 documents" in process.stderr
    assert not (tmp_path / "suspects.jsonl").exists()
