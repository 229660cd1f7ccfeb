"""Profiles: shares per group with document-bootstrap intervals, the change test, dates and bad input,
the command's outputs (table, CSV, JSON, PNG, HTML in a headless browser) and the shipped sample."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas
import pytest

import stancekit
from stancekit import profile, profile_changes
from stancekit.errors import InputError
from stancekit.profiles.dates import parse_date, period_label

from conftest import write_jsonl

SAMPLE = Path(stancekit.__file__).parent / "samples" / "profiles" / "outlets.jsonl"
SCREENSHOT_ENV = "STANCEKIT_PROFILE_SCREENSHOT"
"""Where the browser test also saves its screenshot (``make profile-check`` sets docs/profile.png)."""
LABELS_PER_GROUP = 3 + 10 + 2  # stances, claim types, flags


def scored(rows: list[tuple]) -> pandas.DataFrame:
    """Scored records from (outlet, date, document, stance, claim_type) tuples."""
    frame = pandas.DataFrame(rows, columns=["outlet", "date", "document", "stance", "claim_type"])
    frame["stance_confidence"] = np.linspace(0.5, 0.99, len(frame))
    frame["claim_confidence"] = 0.8
    frame["in_scope"] = True
    frame["text"] = [f"sentence {i}" for i in range(len(frame))]
    return frame


def simulated(seed: int, shift: float = 0.0, outlets: int = 3, months: int = 6, documents: int = 15):
    """Articles of 2-8 sentences whose stance rates vary around their outlet's mix; outlet 0's regime share
    rises by ``shift`` from April on."""
    rng = np.random.default_rng(seed)
    mixes = [np.array([0.2, 0.4, 0.4]), np.array([0.6, 0.1, 0.3]), np.array([0.1, 0.3, 0.6])]
    claims = ["repression", "economic", "none", "threat"]
    rows = []
    for outlet in range(outlets):
        for month in range(1, months + 1):
            mix = mixes[outlet] + (np.array([shift, -shift / 2, -shift / 2]) if outlet == 0 and month >= 4 else 0)
            for document in range(documents):
                rates = rng.dirichlet(mix * 4)
                for _ in range(int(rng.integers(2, 9))):
                    rows.append((f"outlet {outlet}", f"2025-{month:02d}-{document % 28 + 1:02d}", f"{outlet}-{month}-{document}",
                                 ["regime", "opposition", "neutral"][rng.choice(3, p=rates)], claims[rng.integers(4)]))
    return scored(rows)


# dates -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, day", [
    ("2025-03-14", "2025-03-14"), ("2025-03-14T10:30:00Z", "2025-03-14"), ("2025-03-14 10:30+03:30", "2025-03-14"),
    ("2025-03-31T22:30:00-05:00", "2025-04-01"),  # a zone is converted to UTC first
    ("20250314T103000Z", "2025-03-14"), ("2025-03-14 10:30 UTC", "2025-03-14"),
    ("Fri, 14 Mar 2025 10:30:00 +0000", "2025-03-14"), ("14 March 2025", "2025-03-14"),
    ("March 14, 2025", "2025-03-14"), ("Mar 14, 2025", "2025-03-14"), ("2025/03/14", "2025-03-14"),
])
def test_common_date_forms_parse(value, day):
    assert period_label(parse_date(value), "day") == day


@pytest.mark.parametrize("value", ["03/04/2025", "5", "May", "yesterday", "2025-13-01", 2025])
def test_ambiguous_or_unreadable_dates_are_refused(value):
    with pytest.raises(ValueError, match="date"):
        parse_date(value)


def test_period_names_sort_in_time_order():
    moment = parse_date("2025-12-29")  # a Monday in ISO week 1 of 2026
    assert [period_label(moment, every) for every in ("day", "week", "month", "quarter", "year")] == [
        "2025-12-29", "2026-W01", "2025-12", "2025-Q4", "2025"]


# profile -----------------------------------------------------------------------------------------

def test_profile_is_tidy_with_shares_intervals_and_method():
    frame = simulated(seed=1, outlets=2, months=2)
    table = profile(frame, by="outlet", time="date", every="month", document="document", resamples=300)
    assert list(table.columns[:2]) == ["outlet", "period"]
    assert len(table) == 2 * 2 * LABELS_PER_GROUP
    assert set(table["task"]) == {"stance", "claim_type", "flag"}
    january = table[(table["outlet"] == "outlet 0") & (table["period"] == "2025-01")]
    rows = frame[(frame["outlet"] == "outlet 0") & frame["date"].str.startswith("2025-01")]
    assert january["sentences"].iloc[0] == len(rows) and january["documents"].iloc[0] == 15
    regime = january[(january["task"] == "stance") & (january["label"] == "regime")].iloc[0]
    assert regime["count"] == (rows["stance"] == "regime").sum()
    assert regime["share"] == pytest.approx(regime["count"] / len(rows))
    review = january[january["label"] == "review"].iloc[0]
    assert review["count"] == (rows["stance_confidence"] < 0.65).sum()
    assert january["mean_stance_confidence"].iloc[0] == pytest.approx(rows["stance_confidence"].mean())
    for task in ("stance", "claim_type"):
        assert table[table["task"] == task].groupby(["outlet", "period"])["share"].sum().to_numpy() == \
            pytest.approx(1.0)
    assert ((table["low"] <= table["share"] + 1e-12) & (table["share"] <= table["high"] + 1e-12)).all()
    assert "bootstrap over documents" in table.attrs["stancekit"]["intervals"]
    assert table.attrs["stancekit"]["documents"] == "the document field"


def test_intervals_come_from_resampling_documents():
    """Ten-sentence articles that are all regime or all neutral: the evidence is 12 articles, not 120
    sentences, and the document bootstrap's interval is about sqrt(10) times as wide."""
    rows = [("A", "2025-01-05", f"doc {d}", "regime" if d % 2 else "neutral", "none")
            for d in range(12) for _ in range(10)]
    by_document = profile(scored(rows), by="outlet", document="document")
    by_record = profile(scored(rows).drop(columns="document"), by="outlet")
    width = {name: (lambda row: row["high"] - row["low"])(table[table["label"] == "regime"].iloc[0])
             for name, table in (("documents", by_document), ("records", by_record))}
    assert width["documents"] > 2.5 * width["records"]
    assert by_record.attrs["stancekit"]["documents"] == "each record is its own document"
    provenance = scored(rows).rename(columns={"outlet": "source"}).assign(input_file="articles.jsonl")
    assert profile(provenance, by="source")[["share", "low", "high"]].equals(by_document[["share", "low", "high"]])


def test_intervals_are_seeded_and_do_not_depend_on_record_order():
    frame = simulated(seed=2, outlets=2, months=2)
    first = profile(frame, by="outlet", time="date", resamples=200, seed=5)
    shuffled = profile(frame.sample(frac=1, random_state=0), by="outlet", time="date", resamples=200, seed=5)
    pandas.testing.assert_frame_equal(first, shuffled)
    other_seed = profile(frame, by="outlet", time="date", resamples=200, seed=6)
    assert not np.allclose(first["low"], other_seed["low"])


def test_small_groups_are_marked_not_hidden():
    rows = [("big", "2025-01-02", f"b{d}", "regime", "none") for d in range(10)]
    rows += [("small", "2025-01-02", f"s{d}", "neutral", "none") for d in range(3)]
    table = profile(scored(rows), by="outlet")
    assert dict(table.groupby("outlet")["few_documents"].first()) == {"big": False, "small": True}
    assert not profile(scored(rows), by="outlet", min_documents=3)["few_documents"].any()


def test_records_without_the_grouping_field_form_a_missing_group():
    rows = [("A", "2025-01-02", "a", "regime", "none"), (None, "2025-01-03", "b", "neutral", "none"),
            ("   ", "2025-02-03", "c", "neutral", "none"), ("A", None, "d", "opposition", "none")]
    table = profile(scored(rows), by="outlet", time="date")
    groups = table[["outlet", "period", "sentences"]].drop_duplicates().itertuples(index=False, name=None)
    assert list(groups) == [("A", "2025-01", 1), ("A", "(missing)", 1), ("(missing)", "2025-01", 1),
                            ("(missing)", "2025-02", 1)]


@pytest.mark.parametrize("column, value, message", [
    ("date", "yesterday", "row 2: date: cannot read 'yesterday' as a date"),
    ("stance", "pro-regime", "row 2: stance: 'pro-regime' is not a stance label"),
    ("stance_confidence", "high", "row 2: stance_confidence: expected a confidence between 0 and 1, got 'high'"),
    ("in_scope", "maybe", "row 2: in_scope: expected true or false, got 'maybe'"),
])
def test_a_value_that_cannot_be_read_names_row_and_field(column, value, message):
    frame = simulated(seed=3, outlets=1, months=1).astype({column: object})
    frame.loc[2, column] = value
    with pytest.raises(InputError, match=re.escape(message)):
        profile(frame, by="outlet", time="date")
    skipped = profile(frame, by="outlet", time="date", skip_errors=True)
    assert skipped.attrs["stancekit"]["records_skipped"] == 1
    assert skipped["sentences"].iloc[0] == len(frame) - 1


def test_unscored_input_and_unknown_fields_are_errors():
    frame = simulated(seed=3, outlets=1, months=1)
    with pytest.raises(InputError, match="no field 'stance' in the input"):
        profile(frame.drop(columns="stance"), by="outlet")
    with pytest.raises(InputError, match="no grouping field 'outlett'"):
        profile(frame, by="outlett")


def test_a_dask_dataframe_gives_the_same_profile():
    dd = pytest.importorskip("dask.dataframe")
    frame = simulated(seed=4, outlets=2, months=3)
    for options in ({"document": "document"}, {}):  # documents named, and each record its own document
        expected = profile(frame, by="outlet", time="date", resamples=200, **options)
        computed = profile(dd.from_pandas(frame, npartitions=3), by="outlet", time="date", resamples=200, **options)
        pandas.testing.assert_frame_equal(computed, expected, check_exact=False, rtol=1e-9)


# what changed -------------------------------------------------------------------------------------

def test_the_change_test_finds_an_injected_shift():
    """Outlet 0's regime share rises by 40 points in April (30 articles a month): the move is listed, its size
    and interval hold the injected one, and nothing of the unchanged outlets is listed."""
    moves = profile_changes(simulated(seed=5, shift=0.4, documents=30), by="outlet", time="date",
                            document="document")
    changed = moves[moves["changed"]]
    regime = changed[(changed["task"] == "stance") & (changed["label"] == "regime")]
    assert list(regime[["outlet", "period_before", "period_after"]].itertuples(index=False, name=None)) == [
        ("outlet 0", "2025-03", "2025-04")]
    move = regime.iloc[0]
    assert move["low"] <= 0.4 <= move["high"] and move["change"] == pytest.approx(0.4, abs=0.15)
    assert move["q_value"] <= 0.05 and move["documents_before"] == move["documents_after"] == 30
    assert set(changed["outlet"]) == {"outlet 0"} and set(changed["period_after"]) == {"2025-04"}


def test_with_no_shift_false_alarms_stay_near_the_nominal_rate():
    """Per move alone: about 5 % of intervals exclude 0 (the benchmark measures it over many more runs);
    with the default adjustment over all moves, a run without any change rarely lists one."""
    tested = alarms = runs_with_alarm = 0
    for seed in range(10):
        moves = profile_changes(simulated(seed=100 + seed), by="outlet", time="date", document="document",
                                resamples=400, seed=seed)
        alone = moves["tested"] & ((moves["low"] > 0) | (moves["high"] < 0))
        tested += int(moves["tested"].sum())
        alarms += int(alone.sum())
        runs_with_alarm += bool(moves["changed"].any())
    assert tested > 900
    assert 0.02 <= alarms / tested <= 0.10
    assert runs_with_alarm <= 2


def test_moves_of_small_groups_are_listed_but_not_tested():
    rows = [("A", "2025-01-02", f"a{d}", "neutral", "none") for d in range(5)]
    rows += [("A", "2025-02-02", f"b{d}", "regime", "none") for d in range(5)]
    moves = profile_changes(scored(rows), by="outlet", time="date", document="document", adjust="none")
    regime = moves[moves["label"] == "regime"].iloc[0]
    assert regime["change"] == 1.0 and not regime["tested"] and not regime["changed"]
    assert np.isnan(regime["p_value"])
    tested = profile_changes(scored(rows), by="outlet", time="date", document="document", min_documents=5)
    assert tested[tested["label"] == "regime"]["changed"].iloc[0]


def test_changes_need_a_time_field():
    with pytest.raises(ValueError, match="needs a time field"):
        profile_changes(simulated(seed=1, outlets=1, months=1), by="outlet", time=None)


# the command --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_profile(tmp_path_factory):
    """``stancekit profile`` on the shipped sample, every output written."""
    from conftest import run_cli

    folder = tmp_path_factory.mktemp("profile")
    (folder / "outlets.jsonl").write_bytes(SAMPLE.read_bytes())
    process = run_cli("profile", "outlets.jsonl", "--model", "tfidf", "--split-sentences", "--by", "outlet", "--time", "date",
                      "--every", "quarter", "--changes", "-o", "profile.csv", "--json", "profile.json",
                      "--plot", "profile.png", "--html", "profile.html", cwd=folder)
    assert process.returncode == 0, process.stderr
    return folder, process


def test_the_command_on_the_sample_writes_table_picture_and_page(sample_profile):
    folder, process = sample_profile
    assert re.search(r"^Tehran Morning\s+2025-Q3\s+12\s+\d+\s+", process.stdout, re.M)
    assert "bootstrap over documents (1000 resamples, seed 13)" in process.stdout
    assert re.search(r"^Tehran Morning\s+2025-Q2\s+2025-Q3\s+stance\s+regime\s+0\s+\d+\s+\+\d+", process.stdout,
                     re.M), process.stdout  # the sample's shift is found
    assert re.search(r"profiled \d+ records in 24 groups; wrote profile.csv, profile.json, profile.png, "
                     "profile.html", process.stderr)
    header = (folder / "profile.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("# stancekit profile: 95 % intervals are expanded percentile intervals from a bootstrap "
                             "over documents")
    table = pandas.read_csv(folder / "profile.csv", comment="#")
    assert len(table) == 6 * 4 * LABELS_PER_GROUP and set(table["documents"]) == {12}
    document = json.loads((folder / "profile.json").read_text(encoding="utf-8"))
    assert document["metadata"]["model"].startswith("tfidf ") and len(document["profile"]) == len(table)
    assert any(move["changed"] for move in document["changes"])
    assert (folder / "profile.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_csv_input_and_the_dask_engines_parquet_folder_give_the_same_profile(cli, tmp_path):
    distributed = pytest.importorskip("distributed")
    from stancekit.jobs.dask_engine import run_dask_job
    from stancekit.jobs.job import ClassifyJob

    articles = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[::6]]
    write_jsonl(tmp_path / "articles.jsonl", articles)
    for output in ("scored.jsonl", "scored.csv"):
        assert cli("classify", "articles.jsonl", "--model", "tfidf", "-o", output).returncode == 0
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        run_dask_job(ClassifyJob(inputs=[str(tmp_path / "articles.jsonl")], model="tfidf",
                                 output=str(tmp_path / "scored.parquet"), quiet=True), client=client)
    profiles = []
    for source in ("scored.jsonl", "scored.csv", "scored.parquet"):
        process = cli("profile", source, "--by", "outlet", "--time", "date", "--every", "quarter", "--resamples", "300",
                      "-o", f"{source}.profile.csv", "--quiet")
        assert process.returncode == 0, process.stderr
        profiles.append(pandas.read_csv(tmp_path / f"{source}.profile.csv", comment="#"))
    pandas.testing.assert_frame_equal(profiles[1], profiles[0])
    pandas.testing.assert_frame_equal(profiles[2], profiles[0])


def test_parquet_output_keeps_the_method_in_its_metadata(cli, tmp_path):
    import pyarrow.parquet as pq

    write_jsonl(tmp_path / "scored.jsonl", simulated(seed=6, outlets=1, months=1).to_dict(orient="records"))
    process = cli("profile", "scored.jsonl", "--by", "outlet", "--document", "document", "-o", "p.parquet")
    assert process.returncode == 0, process.stderr
    metadata = json.loads(pq.read_schema(tmp_path / "p.parquet").metadata[b"stancekit"])
    assert metadata["method"] == "document bootstrap, expanded percentile" and metadata["documents"] == "the document field"
    assert len(pq.read_table(tmp_path / "p.parquet")) == LABELS_PER_GROUP


def test_bad_records_stop_the_command_or_are_skipped_and_reported(cli, tmp_path):
    records = simulated(seed=7, outlets=1, months=2).to_dict(orient="records")
    records[1]["date"] = "next week"
    write_jsonl(tmp_path / "scored.jsonl", records)
    process = cli("profile", "scored.jsonl", "--by", "outlet", "--time", "date", "-o", "p.csv")
    assert process.returncode == 2
    assert process.stderr == ("stancekit: error: scored.jsonl:2: date: cannot read 'next week' as a date (use "
                              "ISO 8601, such as 2025-03-14 or 2025-03-14T10:30:00Z)\n")
    assert not (tmp_path / "p.csv").exists()
    process = cli("profile", "scored.jsonl", "--by", "outlet", "--time", "date", "--skip-errors", "--json", "-")
    assert process.returncode == 0, process.stderr
    assert "skipped 1 bad record(s): scored.jsonl:2" in process.stderr
    assert json.loads(process.stdout)["metadata"]["records_skipped"] == 1


@pytest.mark.parametrize("args, message", [
    (["raw.jsonl", "--by", "outlet"], "no field 'stance' in the input"),
    (["raw.jsonl", "--by", "outlet", "--changes"], "--changes compares periods: it needs --time FIELD"),
    (["raw.jsonl", "--by", "outlet", "--every", "week"], "--every needs --time FIELD"),
    (["raw.jsonl", "--by", "outlet", "-o", "p.txt"], "p.txt: a profile is written as .csv or .parquet"),
    (["raw.jsonl", "--by", "outlet", "--split-sentences"], "--split-sentences needs --model"),
    (["raw.jsonl", "--by", "outlet", "--resamples", "10"], "resamples must be at least 100"),
    (["raw.jsonl", "--by", "outlet", "--json", "raw.jsonl"], "output is the same file as raw.jsonl"),
])
def test_command_errors_are_one_line(cli, tmp_path, args, message):
    write_jsonl(tmp_path / "raw.jsonl", [{"outlet": "A", "text": "The parliament meets on Sunday."}])
    process = cli("profile", *args)
    assert process.returncode == 2
    assert message in process.stderr and process.stderr.count("\n") == 1


# the page in a browser ----------------------------------------------------------------------------

PROBE = """<script>
(function () {
  var link = document.querySelector("table.profile a[href^='#ex-']");
  link.click();
  var target = document.querySelector(link.getAttribute("href"));
  var other = document.querySelector(".example:not(:target)");
  var body = document.body;
  body.dataset.probeShown = getComputedStyle(target).display;
  body.dataset.probeOther = getComputedStyle(other).display;
  body.dataset.probeExamples = String(target.querySelectorAll("li").length);
  body.dataset.probeResources = String(performance.getEntriesByType("resource").length);
  body.dataset.probeCharts = String(document.querySelectorAll("figure svg").length);
})();
</script>
</body>"""
"""Appended to a copy of the page (whose policy then also allows this one inline script): follows the first
link of the table and records what the page shows."""


def _browser() -> str | None:
    import shutil

    return next((path for path in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if path), None)


def test_page_is_self_contained(sample_profile):
    from stancekit.profiles.page import CONTENT_SECURITY_POLICY

    page = (sample_profile[0] / "profile.html").read_text(encoding="utf-8")
    assert f'content="{CONTENT_SECURITY_POLICY}"' in page and "<script" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)""", page)  # in-page links only
    assert not re.search(r"url\((?!#)|@import|https?://", page)
    assert page.count("<svg") == 1 and "Tehran Morning" in page and 'id="changes"' in page
    links = set(re.findall(r'href="#(ex-[^"]+)"', page))
    assert links and links <= set(re.findall(r'<div class="example" id="([^"]+)"', page))


@pytest.mark.skipif(_browser() is None, reason="no chromium binary found (make chromium installs Debian's chromium)")
def test_page_in_headless_chromium(sample_profile, tmp_path):
    """No console message (CSP violations and errors are console messages), no network request, the charts
    are there, and a share's link shows its example sentences; save a screenshot."""
    from stancekit.profiles.page import CONTENT_SECURITY_POLICY

    page = (sample_profile[0] / "profile.html").read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace(CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY + "; script-src 'unsafe-inline'")
                     .replace("</body>", PROBE), encoding="utf-8")
    common = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
              f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dump = subprocess.run([*common, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    assert dump.returncode == 0, dump.stderr[-2000:]
    assert [line for line in dump.stderr.splitlines() if ":CONSOLE" in line] == []
    probed = dict(re.findall(r'data-probe-(\w+)="([^"]*)"', dump.stdout))
    assert probed == {"shown": "block", "other": "none", "examples": probed["examples"], "resources": "0",
                      "charts": "1"}
    assert 1 <= int(probed["examples"]) <= 3
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "profile.png")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    shot = subprocess.run([*common, "--window-size=1280,1500", f"--screenshot={screenshot}",
                           (sample_profile[0] / "profile.html").as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# the sample and the import ------------------------------------------------------------------------

def test_the_sample_is_what_its_script_writes():
    script = Path(__file__).resolve().parents[1] / "annotations" / "tools" / "build_profile_sample.py"
    spec = importlib.util.spec_from_file_location("build_profile_sample", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    articles = module.build()
    assert [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()] == articles
    assert len({article["outlet"] for article in articles}) == 6
    assert {period_label(parse_date(article["date"]), "month") for article in articles} == {
        f"2025-{month:02d}" for month in range(1, 13)}


def test_import_stays_light_and_profile_is_exported():
    code = ("import sys, stancekit; print(','.join(m for m in ('pandas', 'numpy', 'matplotlib', 'scipy') "
            "if m in sys.modules)); print(stancekit.profile.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["", "stancekit.profiles.api"]
