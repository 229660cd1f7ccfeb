"""Run the benchmarks and write benchmarks/RESULTS.md and benchmarks/results.json.

    python benchmarks/run.py            # full run (about 15 minutes on 2 cores)
    python benchmarks/run.py --quick    # smaller sizes, no leave-one-out retraining (about 2 minutes)

The transformer's leave-one-seed-article-out folds take five trainings, too long for
this run: benchmarks/loso.py computes them into loso_transformer.json, reported here;
likewise benchmarks/dask_scaling.py measures 1 and 2 Dask workers into dask_scaling.json,
reported here with the cost of 100 million sentences; benchmarks/explain.py measures
explanations (deletion test, cost) and the scope check into explain.json;
benchmarks/profile_changes.py simulates the profile's interval coverage and change test into
profile_changes.json; and benchmarks/active_learning.py and audit_flips.py measure suggest and
audit into their JSON files; each is reported here when present.

Accuracy: every shipped model on the test split and on each leave-one-seed-article-out
fold, between a majority-class floor and the human-agreement ceiling. Speed: each
stancekit model against its plain counterpart on the same texts and batch size, in
separate fresh processes of one run, reported as ratios. Scale: the batch-scoring CLI
on a 100k- and a 1M-line file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
LOSO_CACHE = HERE / "loso_transformer.json"
LEARNING_CURVE = HERE / "learning_curve.json"
DASK_SCALING = HERE / "dask_scaling.json"
EXPLAIN_RESULTS = HERE / "explain.json"
PROFILE_RESULTS = HERE / "profile_changes.json"
ACTIVE_LEARNING = HERE / "active_learning.json"
AUDIT_FLIPS = HERE / "audit_flips.json"
ACCURATE_SPEED = HERE / "accurate_speed.json"
DISTILLATION = HERE / "distillation.json"
COST_SENTENCES = 100_000_000
COST_CORES = (8, 32, 128)
TARGETS = {"cli_vs_classify": 0.8, "accurate_vs_plain": 2.0, "distilled_vs_plain": 3.0,
           "distilled_sentences_per_s": 500, "served_drop_points": 0.5, "gap_recovered": 0.6,
           "first_prediction_default_s": 2.0, "tfidf_sentences_per_s": 20000, "transformer_sentences_per_s": 300,
           "transformer_vs_pipeline": 2.0, "import_s": 0.2, "scale_peak_rss_mb": 1024}


def run_worker(*args: str) -> dict:
    process = subprocess.run([sys.executable, str(WORKER), *args], capture_output=True, text=True)
    if process.returncode != 0:
        raise SystemExit(f"benchmark worker failed: {' '.join(args)}\n{process.stderr}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def machine() -> dict:
    from importlib import metadata

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), None) if Path("/proc/meminfo").exists() else None
    versions = {}
    for package in ("stancekit", "numpy", "scipy", "scikit-learn", "torch", "transformers", "tokenizers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    from stancekit.classifiers.encoders import available_cores

    return {"cpu": cpu, "cores": available_cores(), "memory_mb": memory,
            "python": platform.python_version(), "platform": platform.platform(), "versions": versions}


# accuracy ---------------------------------------------------------------------------------------

def held_out_sets() -> dict[str, list[dict]]:
    """The labeled sets every model is scored on: the test split, its v1 documents, the contrast set."""
    from stancekit.data import load_records, read_split_assignment, split_records

    test = split_records(load_records(), read_split_assignment())["test"]
    splits = json.loads((HERE.parent / "annotations" / "splits.json").read_text(encoding="utf-8"))
    v1_documents = set(splits.get("v1_test_documents", []))
    contrast = load_records(sorted((HERE.parent / "annotations" / "contrast").glob("*.jsonl")))
    return {"test": test, "v1_test": [r for r in test if r["doc_id"] in v1_documents], "contrast": contrast}


def model_scores(model, sets: dict[str, list[dict]]) -> dict:
    """A loaded model's summarised scores on each of ``held_out_sets()`` (contrast: by minimal group too)."""
    from stancekit.evaluation.results import evaluate_model

    return {name: summarise(evaluate_model(model, records, data=name, by_document=name == "contrast"))
            for name, records in sets.items() if records}


def accuracy(quick: bool) -> dict:
    from stancekit.data import load_records, read_split_assignment, split_records
    from stancekit.artifacts import shipped_models
    from stancekit.evaluation.results import evaluate_predictions
    from stancekit.labels import TASKS
    from stancekit.registry import load_model

    import numpy as np

    records = load_records()
    grouped = split_records(records, read_split_assignment())
    sets = held_out_sets()
    test = sets["test"]
    rows, v1_rows, contrast_rows = {}, {}, {}
    for name in shipped_models():
        scores = model_scores(load_model(name), sets)
        rows[name], contrast_rows[name] = scores["test"], scores["contrast"]
        if "v1_test" in scores:
            v1_rows[name] = scores["v1_test"]
    majority = [Counter(r[task] for r in grouped["train"]).most_common(1)[0][0] for task in TASKS]
    rows["majority class (floor)"] = summarise(evaluate_predictions(
        test, np.array([majority] * len(test), dtype=object), "majority"))
    loso = {"tfidf": leave_one_seed_out("tfidf", records, grouped) if not quick else None,
            "transformer": json.loads(LOSO_CACHE.read_text())["folds"] if LOSO_CACHE.exists() else None}
    agreement_path = HERE.parent / "annotations" / "agreement.json"
    agreement = json.loads(agreement_path.read_text()) if agreement_path.exists() else None
    return {"test_records": len(test), "models": rows, "v1_test_records": len(sets["v1_test"]), "v1_test": v1_rows,
            "contrast_records": len(sets["contrast"]), "contrast": contrast_rows,
            "leave_one_seed_out": loso, "human_agreement": agreement}


def summarise(result) -> dict:
    return {**{task: {"macro_f1": m.macro_f1, "accuracy": m.accuracy,
                      "per_class_f1": {label: c.f1 for label, c in m.per_class.items()}}
               for task, m in result.tasks.items()}, "documents": result.documents}


def shipped_settings(kind: str) -> tuple[dict, dict]:
    """A shipped model's constructor settings (its base encoder's identity left out) and its whole config."""
    from stancekit.registry import resolve

    config = json.loads((resolve(kind) / "config.json").read_text(encoding="utf-8"))
    return {k: v for k, v in config["settings"].items() if k != "base"}, config


def leave_one_seed_out(kind: str, records: list[dict], grouped: dict, params: dict | None = None) -> dict:
    """Train without one seed article (on train, selecting on dev), test on that article; per article.

    An article outside train and dev (a test-split article) never reached the shipped
    model, so the shipped model is that fold's model and is not retrained.
    """
    from stancekit.evaluation.results import evaluate_model
    from stancekit.jobs.training import texts_and_labels
    from stancekit.registry import load_model, make_model

    folds = {}
    for article in sorted({r["doc_id"] for r in records if r["origin"] == "seed"}):
        train = [r for r in grouped["train"] if r["doc_id"] != article]
        dev = [r for r in grouped["dev"] if r["doc_id"] != article]
        held_out = [r for r in records if r["doc_id"] == article]
        if len(train) == len(grouped["train"]) and len(dev) == len(grouped["dev"]):
            model = load_model(kind)
        else:
            model = make_model(kind, **(params or {}))
            model.fit(*texts_and_labels(train), validation=texts_and_labels(dev), quiet=True)
        folds[article] = {"records": len(held_out),
                          **summarise(evaluate_model(model, held_out, data=article))}
    return folds


# speed ------------------------------------------------------------------------------------------

def speed(quick: bool) -> dict:
    from stancekit.artifacts import shipped_models

    sizes = (2000, 10000) if quick else (10000, 100000)
    pairs = [("stancekit-tfidf", "sklearn-tfidf", sizes, 1000)]
    if "transformer" in shipped_models():
        pairs.append(("stancekit-transformer", "hf-pipeline", (300,) if quick else (2000,), 64))
    results = []
    for ours, theirs, ns, batch in pairs:
        for n in ns:
            a, b = run_worker("throughput", ours, str(n), str(batch)), run_worker("throughput", theirs, str(n), str(batch))
            results.append({"n": n, "batch_size": batch, "stancekit": a, "baseline": b,
                            "ratio": a["sentences_per_s"] / b["sentences_per_s"]})
    alone = []
    results.append(cli_vs_classify(20000 if quick else 200000))
    alone = [run_worker("throughput", f"stancekit-{name}", str(n), "64")
             for name in ("ensemble", "distilled", "accurate") if name in shipped_models()
             for n in ((300,) if quick else (2000,))]
    return {"pairs": results, "alone": alone, "cold_start": cold_start(3 if quick else 5)}


def cli_vs_classify(n: int) -> dict:
    """``stancekit classify`` on a file against ``classify()`` on the same texts in a script, default model."""
    from stancekit.registry import DEFAULT_MODEL
    from worker import corpus_sentences

    a = run_worker("throughput", f"classify-{DEFAULT_MODEL}", str(n), str(n))
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.txt"
        source.write_text("".join(" ".join(s.split()) + "\n" for s in corpus_sentences(n)), encoding="utf-8")
        measured = run_worker("command", "--", sys.executable, "-m", "stancekit", "classify", str(source),
                              "-o", str(Path(folder) / "out.jsonl"), "--quiet")
    cli = {"impl": f"stancekit classify (CLI, file to JSONL, start-up included, {DEFAULT_MODEL})", "n": n,
           "batch_size": 256, "seconds": measured["seconds"], "sentences_per_s": n / measured["seconds"],
           "peak_rss_mb": measured["peak_rss_mb"]}
    a["impl"] = f"classify() in a script (texts in a list, {DEFAULT_MODEL})"
    return {"n": n, "batch_size": 256, "stancekit": cli, "baseline": a,
            "ratio": cli["sentences_per_s"] / a["sentences_per_s"]}


def cold_start(repeats: int) -> dict:
    from stancekit.artifacts import shipped_models

    def best(argv: list[str]) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        return min(times)

    python = [sys.executable, "-c"]
    baseline = best(python + ["pass"])
    timed_import = ("import time; started = time.perf_counter(); import stancekit; "
                    "print(time.perf_counter() - started)")
    imports = [float(subprocess.run(python + [timed_import], check=True, capture_output=True,
                                    text=True).stdout) for _ in range(repeats)]
    result = {"python_startup_s": baseline, "import_stancekit_s": min(imports),
              "stancekit_help_s": best([sys.executable, "-m", "stancekit", "--help"]) - baseline}
    for name in shipped_models():
        code = f"from stancekit import classify; classify('The strike goes on.', model={name!r})"
        result[f"first_prediction_{name}_s"] = best(python + [code]) - baseline
    return result


# scale ------------------------------------------------------------------------------------------

def scale(quick: bool) -> list[dict]:
    from worker import corpus_sentences

    sentences = corpus_sentences(5000)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for n in ((10000, 100000) if quick else (100000, 1000000)):
            source = Path(folder) / f"in_{n}.txt"
            with open(source, "w", encoding="utf-8") as handle:
                for i in range(n):
                    handle.write(" ".join(sentences[i % len(sentences)].split()) + "\n")
            out = Path(folder) / f"out_{n}.jsonl"
            measured = run_worker("command", "--", sys.executable, "-m", "stancekit", "classify", str(source),
                                  "--model", "tfidf", "--batch-size", "1000", "-o", str(out), "--quiet")
            with open(out, "rb") as handle:
                lines = sum(1 for _ in handle)
            results.append({"lines": n, "output_lines": lines, "seconds": measured["seconds"],
                            "lines_per_s": n / measured["seconds"], "peak_rss_mb": measured["peak_rss_mb"]})
            out.unlink()
    return results


# report -----------------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(results: dict) -> str:
    m, acc, spd = results["machine"], results["accuracy"], results["speed"]
    lines = ["# Benchmark results", "",
             f"Run {results['finished']} ({'quick' if results['quick'] else 'full'} mode, "
             f"{results['seconds']:.0f} s) on {m['cpu']}, {m['cores']} cores, {m['memory_mb']} MB, "
             f"Python {m['python']}. Raw numbers: `benchmarks/results.json`.", "",
             "Reproduce: `make bench` (or `make bench-quick`).", "",
             f"## Accuracy on the test split ({acc['test_records']} records)", "",
             "| model | stance macro-F1 | stance accuracy | claim macro-F1 | claim accuracy |",
             "|---|---:|---:|---:|---:|"]
    for name, row in acc["models"].items():
        lines.append(f"| {name} | {row['stance']['macro_f1']:.3f} | {row['stance']['accuracy']:.3f} | "
                     f"{row['claim_type']['macro_f1']:.3f} | {row['claim_type']['accuracy']:.3f} |")
    human = acc["human_agreement"]
    if human:
        lines.append(f"| human agreement (ceiling, {human['records']} double-annotated records) | "
                     f"{human['stance']['macro_f1']:.3f} | {human['stance']['raw_agreement']:.3f} | "
                     f"{human['claim_type']['macro_f1']:.3f} | {human['claim_type']['raw_agreement']:.3f} |")
    if acc.get("v1_test"):
        lines += ["", f"On the test documents of corpus v1 only ({acc['v1_test_records']} records, the "
                  "test split of earlier results, unchanged):", "",
                  "| model | stance macro-F1 | stance accuracy | claim macro-F1 | claim accuracy |",
                  "|---|---:|---:|---:|---:|"]
        lines += [f"| {name} | {row['stance']['macro_f1']:.3f} | {row['stance']['accuracy']:.3f} | "
                  f"{row['claim_type']['macro_f1']:.3f} | {row['claim_type']['accuracy']:.3f} |"
                  for name, row in acc["v1_test"].items()]
    for task in ("stance", "claim_type"):
        labels = list(next(iter(acc["models"].values()))[task]["per_class_f1"])
        lines += ["", f"Per-class F1 on the test split, {task}:", "",
                  "| model | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
        lines += [f"| {name} | " + " | ".join(f"{row[task]['per_class_f1'][label]:.2f}" for label in labels) + " |"
                  for name, row in acc["models"].items()]
    if acc.get("contrast"):
        lines += ["", f"## Contrast set ({acc['contrast_records']} sentences in "
                  f"{next(iter(acc['contrast'].values()))['documents']['documents']} minimal groups)", "",
                  "`annotations/contrast/`: groups of 2–3 sentences with one change of speaker, attribution "
                  "or framing; never trained on. Per sentence: accuracy; per group: the share of groups "
                  "with every member right.", "",
                  "| model | stance accuracy | claim accuracy | groups right, stance | groups right, claim | "
                  "groups right, both |", "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {name} | {row['stance']['accuracy']:.3f} | {row['claim_type']['accuracy']:.3f} | "
                  f"{row['documents']['stance']:.3f} | {row['documents']['claim_type']:.3f} | "
                  f"{row['documents']['all']:.3f} |" for name, row in acc["contrast"].items()]
    lines += learning_curve_section()
    lines += ["", "## Leave one seed article out", "",
              "Each fold trains without one of the five seed articles and tests on all of its sentences.", "",
              "| model | article | records | stance macro-F1 | stance accuracy | claim macro-F1 | claim accuracy |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for name, folds in acc["leave_one_seed_out"].items():
        if not folds:
            lines.append(f"| {name} | not run in this mode | | | | | |")
            continue
        for article, fold in folds.items():
            lines.append(f"| {name} | {article} | {fold['records']} | {fold['stance']['macro_f1']:.3f} | "
                         f"{fold['stance']['accuracy']:.3f} | {fold['claim_type']['macro_f1']:.3f} | "
                         f"{fold['claim_type']['accuracy']:.3f} |")
        mean = {f"{t}_{k}": statistics.mean(f[t][k] for f in folds.values())
                for t in ("stance", "claim_type") for k in ("macro_f1", "accuracy")}
        lines.append(f"| {name} | **mean** | | {mean['stance_macro_f1']:.3f} | {mean['stance_accuracy']:.3f} | "
                     f"{mean['claim_type_macro_f1']:.3f} | {mean['claim_type_accuracy']:.3f} |")
    lines += ["", "## Speed (same texts, same batch size, fresh process each)", "",
              "| stancekit | baseline | sentences | batch | stancekit sent/s | baseline sent/s | ratio | "
              "stancekit peak RSS MB | baseline peak RSS MB |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for pair in spd["pairs"]:
        a, b = pair["stancekit"], pair["baseline"]
        lines.append(f"| {a['impl']} | {b['impl']} | {pair['n']} | {pair['batch_size']} | "
                     f"{a['sentences_per_s']:.0f} | {b['sentences_per_s']:.0f} | {pair['ratio']:.2f}x | "
                     f"{a['peak_rss_mb']:.0f} | {b['peak_rss_mb']:.0f} |")
    lines += [f"| {a['impl']} | (none) | {a['n']} | {a['batch_size']} | {a['sentences_per_s']:.0f} | | | "
              f"{a['peak_rss_mb']:.0f} | |" for a in spd.get("alone", [])]
    cold = spd["cold_start"]
    lines += ["", "Cold start, best of several fresh processes: `import stancekit` timed inside the "
              "process; the others are whole-process wall times less Python's own start-up "
              f"({cold['python_startup_s']:.3f} s):", ""]
    lines += [f"- {key.removesuffix('_s').replace('_', ' ')}: {value:.3f} s"
              for key, value in cold.items() if key != "python_startup_s"]
    lines += ["", "## Scale: batch scoring through the CLI with the TF-IDF model", "",
              "| lines | seconds | lines/s | peak RSS MB |", "|---:|---:|---:|---:|"]
    lines += [f"| {s['lines']} | {s['seconds']:.1f} | {s['lines_per_s']:.0f} | {s['peak_rss_mb']:.0f} |"
              for s in results["scale"]]
    if ACCURATE_SPEED.exists():
        lines += accurate_section(json.loads(ACCURATE_SPEED.read_text(encoding="utf-8")))
    if DISTILLATION.exists():
        lines += distillation_section(json.loads(DISTILLATION.read_text(encoding="utf-8")))
    if DASK_SCALING.exists():
        lines += ["", *dask_section(json.loads(DASK_SCALING.read_text(encoding="utf-8")))]
    if EXPLAIN_RESULTS.exists():
        lines += explanations(json.loads(EXPLAIN_RESULTS.read_text(encoding="utf-8")))
    if PROFILE_RESULTS.exists():
        lines += profile_section(json.loads(PROFILE_RESULTS.read_text(encoding="utf-8")))
    if ACTIVE_LEARNING.exists():
        lines += active_learning_section(json.loads(ACTIVE_LEARNING.read_text(encoding="utf-8")))
    if AUDIT_FLIPS.exists():
        lines += audit_section(json.loads(AUDIT_FLIPS.read_text(encoding="utf-8")))
    lines += ["", "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {verdict(ok)} |" for t, v, ok in targets(results)]
    lines += ["", "## Notes", "", *results.get("notes", []), ""]
    return "\n".join(lines)


def _served_row(name: str, run: dict) -> str:
    speed, served = run["speed"], run["quality"]
    return (f"| {name} | {speed['sentences_per_s']['stancekit']:.0f} | {speed['sentences_per_s']['plain_fp32_eager']:.0f} "
            f"| {speed['speed_ratio']:.2f}x | {served['served']['stance']:.3f} / {served['served']['claim_type']:.3f} "
            f"| {served['fp32']['stance']:.3f} / {served['fp32']['claim_type']:.3f} | {served['labels_differing']} |")


SERVED_HEADER = ["| model | served sent/s | plain fp32 eager sent/s | ratio | test macro-F1 served, stance / claim "
                 "| same weights in fp32 | labels that differ |", "|---|---:|---:|---:|---:|---:|---:|"]


def accurate_section(run: dict) -> list[str]:
    return ["", "## The accurate tier against plain fp32 (`benchmarks/inference_speed.py --model accurate`, "
            "`accurate_speed.json`)", "",
            f"{run['model']}: the served combination (MPNet in bf16 autocast, plus TF-IDF) against the plain "
            "fp32 eager loop over the MPNet member's merged weights (batches of 32 sorted by length, "
            f"`inference_mode`), timed batch by batch in one process on {run['speed']['sentences']} test "
            "sentences; quality on the whole test split.", "", *SERVED_HEADER, _served_row("accurate", run)]


def distillation_section(run: dict) -> list[str]:
    reference, teacher = run["reference"], run["teacher"]
    composition = ", ".join(f"{kind} {count:,}" for kind, count in run["transfer"]["by_kind"].items())
    lines = ["", "## Distilled students (`benchmarks/distillation.py`, `distillation.json`)", "",
             f"Transfer set: {run['transfer']['sentences']:,} texts ({composition}); teacher "
             f"{teacher['name']} {teacher['version']} ({teacher['kind']}), calibrated probabilities. Gap recovered: "
             f"(student − {reference['model']}) / (teacher − {reference['model']}) in test macro-F1; "
             f"{reference['model']} scores {reference['stance']:.3f} / {reference['claim_type']:.3f} on this test split.",
             "", "| model | test stance / claim | v1 test docs stance / claim | contrast accuracy stance / claim "
             "| gap recovered stance / claim | size MB | training |", "|---|---:|---:|---:|---:|---:|---:|"]

    def scores(values: dict) -> str:
        return " | ".join(f"{values[part]['stance'][key]:.3f} / {values[part]['claim_type'][key]:.3f}"
                          for part, key in (("test", "macro_f1"), ("v1_test", "macro_f1"), ("contrast", "accuracy")))

    lines.append(f"| teacher ({teacher['name']}) | {scores(teacher['scores'])} | | | |")
    for name, student in run["students"].items():
        gap = student["gap_recovered"]
        lines.append(f"| student, {name} | {scores(student['scores'])} | {gap['stance']:.0%} / {gap['claim_type']:.0%} "
                     f"| {student['megabytes']} | {_duration(student['training_seconds'])} |")
    lines += ["", "Served through ONNX Runtime (int8) against plain fp32 eager all-MiniLM-L6-v2 with the "
              "student's heads, the same test sentences, paired batch by batch in one process:", "",
              *SERVED_HEADER]
    lines += [_served_row(f"student, {name}", student) for name, student in run["students"].items()]
    return lines


def explanations(results: dict) -> list[str]:
    """The report's section on explanations and the scope check, from benchmarks/explain.json."""
    lines = ["", "## Explanations (`benchmarks/explain.py`, `explain.json`)", "",
             "Deletion test: delete the evidence that pushed toward each predicted label and score "
             "the text again; the share of sentences whose label probability went down (sentences "
             "without such evidence count as not lowered), against deleting as many random words. "
             f"Test split ({results['test_sentences']} sentences; a seeded sample for occlusion).", "",
             "| model | method | sentences | stance: lowered | random words | claim: lowered | random words | "
             "plain ms/sentence | explain ms/sentence |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, m in results["models"].items():
        lowered, floor = m["share_lowered"], m["share_lowered_random_words"]
        lines.append(f"| {name} | {m['method']} | {m['sentences']} | {lowered['stance']:.1%} | {floor['stance']:.1%} | "
                     f"{lowered['claim_type']:.1%} | {floor['claim_type']:.1%} | {m['plain_ms_per_sentence']:.1f} | "
                     f"{m['explain_ms_per_sentence']:.1f} |")
    if all("mean_log_odds_drop" in m for m in results["models"].values()):
        lines += ["", "The same deletions as the drop in the label's log-odds (`log p(label) - mean log p`, the scale "
                  "of the evidence weights): mean over all sentences, and over the confident ones (label probability "
                  "at least 0.95), where deleting a word hardly moves the probability.", "",
                  "| model | stance: evidence | random words | confident (n) | evidence | random words | "
                  "claim: evidence | random words | confident (n) | evidence | random words |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, m in results["models"].items():
            cells = []
            for task in ("stance", "claim_type"):
                sure = m["confident_mean_log_odds_drop"][task]
                sure_random = m["confident_mean_log_odds_drop_random_words"][task]
                cells += [f"{m['mean_log_odds_drop'][task]:.2f}", f"{m['mean_log_odds_drop_random_words'][task]:.2f}",
                          str(m["confident_sentences"][task]), "–" if sure is None else f"{sure:.2f}",
                          "–" if sure_random is None else f"{sure_random:.2f}"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    scope = results["scope"]
    lines += ["", f"Scope check: {scope['flagged_out_of_scope']} of {scope['corpus_sentences']} shipped corpus "
              f"sentences (all English) flagged out of scope ({scope['false_positive_rate']:.2%}); "
              f"{scope['us_per_sentence']:.0f} µs per sentence."]
    return lines


def profile_section(results: dict) -> list[str]:
    """The report's section on profile intervals and the change test, from benchmarks/profile_changes.json."""
    lines = ["", "## Profiles: intervals and the change test (`benchmarks/profile_changes.py`, `profile_changes.json`)",
             "", f"Run {results['run']}. Made-up scored records: articles of 2-12 sentences whose label rates vary "
             "from article to article (intra-article correlation 0.2).", "",
             "Coverage of the 95 % interval of a share, by the number of documents in the group "
             f"({results['coverage'][0]['repetitions']} simulated groups per row):", "",
             "| documents | true share | document bootstrap (stancekit) | sentence bootstrap (ignores documents) |",
             "|---:|---:|---:|---:|"]
    lines += [f"| {row['documents']} | {row['share']:.1f} | {row['coverage_documents']:.1%} | "
              f"{row['coverage_sentences']:.1%} |" for row in results["coverage"]]
    lines += ["", "Change test with no change anywhere (6 outlets × 12 months, consecutive months compared):", "",
              "| articles a month | runs | moves tested a run | per move: interval excludes 0 (nominal 5 %) | "
              "runs listing any move, each move alone | runs listing any change (default, Benjamini–Hochberg) |",
              "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {run['articles_per_month']} | {run['seeds']} | {run['moves_per_run']:.0f} | "
              f"{run['false_alarm_rate_per_move_alone']:.1%} | {run['runs_with_any_false_alarm_alone']:.1%} | "
              f"{run['runs_with_any_false_alarm_adjusted']:.1%} |" for run in results["null"]]
    lines += ["", "Injected shift: one outlet's regime share rises by the given amount from July on "
              f"({results['shift'][0]['articles_per_month']} articles a month):", "",
              "| shift | runs | listed (default) | interval alone excludes 0 | mean reported change | "
              "interval holds the shift | other moves listed a run |", "|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {run['shift'] * 100:+.0f} points | {run['seeds']} | {run['found']:.0%} | {run['found_alone']:.0%} | "
              f"{run['mean_reported_change'] * 100:+.1f} points | {run['interval_holds_shift']:.0%} | "
              f"{run['false_alarms_per_run_adjusted']:.2f} |" for run in results["shift"]]
    return lines


def active_learning_section(results: dict) -> list[str]:
    """The simulated annotation loop, suggest against random sampling, from benchmarks/active_learning.json."""
    suggest, chosen_at_random = results["mean"]["suggest"], results["mean"]["random"]
    lines = ["", "## What to label next: `suggest` against random sampling", "",
             f"`benchmarks/active_learning.py`, run {results['finished']}: the train split is the pool "
             f"({results['pool_records']} sentences, labels hidden until chosen), the test split "
             f"({results['test_records']} records) scores each model. Every run starts from the same random "
             f"{results['batch']} sentences, then {results['rounds']} rounds of {results['batch']} more, chosen by "
             "`stancekit suggest`'s code with its defaults or at random; TF-IDF with default settings, retrained "
             f"each round. Mean test macro-F1 over seeds {', '.join(map(str, results['seeds']))} "
             "(Δ: suggest minus random; range over seeds in the plot).", "",
             "![suggest against random](active_learning.png)", "",
             "| labels | stance: suggest | random | Δ | claim type: suggest | random | Δ |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for ours, theirs in zip(suggest, chosen_at_random):
        cells = [f"{ours[t]['mean']:.3f} | {theirs[t]['mean']:.3f} | {ours[t]['mean'] - theirs[t]['mean']:+.3f}"
                 for t in ("stance", "claim_type")]
        lines.append(f"| {ours['labels']} | " + " | ".join(cells) + " |")
    runs = {(run["strategy"], run["seed"]): run["points"][1:] for run in results["runs"]}
    for task in ("stance", "claim_type"):
        gaps = [(ours[task]["mean"] - theirs[task]["mean"], ours["labels"])
                for ours, theirs in zip(suggest[1:], chosen_at_random[1:])]
        ahead = [labels for gap, labels in gaps if gap > 0]
        best, worst = max(gaps), min(gaps)
        per_seed = [ours[f"{task}_macro_f1"] > theirs[f"{task}_macro_f1"] for seed in results["seeds"]
                    for ours, theirs in zip(runs["suggest", seed], runs["random", seed])]
        lines.append(f"\n{task}: on the mean, suggest is ahead of random at {len(ahead)} of {len(gaps)} budgets "
                     f"after the seed batch{' (' + ', '.join(map(str, ahead)) + ' labels)' if ahead else ''}; "
                     f"largest lead {best[0]:+.3f} at {best[1]} labels, "
                     f"{'smallest lead' if worst[0] > 0 else 'largest shortfall'} {worst[0]:+.3f} at {worst[1]} "
                     f"labels. Seed by seed, ahead in {sum(per_seed)} of {len(per_seed)} (seed, budget) pairs.")
    return lines


def audit_section(results: dict) -> list[str]:
    """The label audit's recall and precision on seeded flipped labels, from benchmarks/audit_flips.json."""
    lines = ["", "## Which labels look wrong: `audit` on flipped labels", "",
             f"`benchmarks/audit_flips.py`, run {results['finished']} ({results['seconds']:.0f} s): "
             f"{results['share']:.0%} of the corpus's labels of each task flipped to another label at random "
             f"(seed {results['seed']}; {results['flipped']} labels of {results['records']} records), then "
             f"`stancekit audit`'s code ({results['folds']}-fold TF-IDF out-of-fold probabilities, documents kept "
             f"together, cleanlab). It flagged {results['flagged']} labels, {results['flipped_flagged']} of the "
             "flipped among them; the corpus's own label errors compete with the flips, so precision is a lower "
             "bound.", "", "| k | flipped labels in the top k (recall) | precision at k |", "|---|---:|---:|"]
    lines += [f"| {row['k']} ({row['multiple']}× the flipped) | {row['found']} ({row['recall']:.1%}) | "
              f"{row['precision']:.1%} |" for row in results["at_k"]]
    return lines


def learning_curve_section() -> list[str]:
    """The learning curve from benchmarks/learning_curve.py's JSON, if it has been run."""
    if not LEARNING_CURVE.exists():
        return []
    curve = json.loads(LEARNING_CURVE.read_text(encoding="utf-8"))
    lines = ["", "## Learning curve", "",
             f"Trained on a share of the train documents (nested random subsets, seed {curve['seed']}), "
             f"scored on the test split ({curve['test_records']} records); `benchmarks/learning_curve.py`, "
             f"run {curve['finished']}.", "", "![learning curve](learning_curve.png)", "",
             "| model | share of train documents | train records | stance macro-F1 | claim macro-F1 |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {p['model']} | {p['fraction']:.0%} | {p['train_records']} | {p['stance_macro_f1']:.3f} | "
              f"{p['claim_type_macro_f1']:.3f} |" for p in curve["points"]]
    return lines


def dask_section(scaling: dict) -> list[str]:
    """The Dask scaling runs, the 1→2 worker speed-up, and the cost of 100M sentences per model."""
    m = scaling["machine"]
    lines = ["## Scoring past one machine: Dask", "",
             f"`stancekit classify --engine dask` on a local cluster of single-threaded worker processes "
             f"({scaling['finished']}, {m['cpu']}, {m['cores']} cores; `benchmarks/dask_scaling.py`, raw numbers in "
             f"`benchmarks/dask_scaling.json`). Each job reads JSON Lines in {scaling['partitions_per_job']} "
             "partitions and writes one Parquet file per partition; its time covers planning, reading, scoring "
             "and writing, not the cluster's start-up or the model load, measured apart. Worker CPU is the "
             "CPU time of the worker processes during the job; the load average (1 minute, at the job's end) "
             "shows how busy the shared machine was.", "",
             "| model | workers | records | start-up s | model load s (per worker) | job s | records/s | "
             "wall speed-up | worker CPU s | records per CPU-s | load average |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for name, model in scaling["models"].items():
        first = model["runs"][0]["records_per_s"]
        lines += [f"| {name} | {run['workers']} | {run['records']} | {run['startup_s']:.1f} | "
                  f"{', '.join(f'{s:.1f}' for s in run['model_load_s'])} | {run['seconds']:.1f} | "
                  f"{run['records_per_s']:.0f} | {run['records_per_s'] / first:.2f}x | {run['worker_cpu_s']:.1f} | "
                  f"{run['records_per_cpu_s']:.0f} | {run['load_average']:.1f} |" for run in model["runs"]]
    lines += ["", f"Cost of {COST_SENTENCES / 1e6:.0f}M sentences, one per record:", "",
              "| model | rate per core (sent/s) | 2-worker efficiency | core-hours | " +
              " | ".join(f"wall time, {cores} cores" for cores in COST_CORES) + " |",
              "|---|---:|---:|---:|" + "---:|" * len(COST_CORES)]
    for name, model in scaling["models"].items():
        last = model["runs"][-1]
        rate, efficiency = model["runs"][0]["records_per_cpu_s"], min(model["cpu_efficiency"], 1.0)
        fixed = last["startup_s"] + max(last["model_load_s"])
        walls = [_duration(fixed + COST_SENTENCES / (cores * rate * efficiency)) for cores in COST_CORES]
        lines.append(f"| {name} | {rate:.0f} | {efficiency:.2f} | {COST_SENTENCES / rate / 3600:,.0f} | "
                     + " | ".join(walls) + " |")
    lines += ["", "Assumptions: the rate per core is records per CPU-second of one single-threaded worker "
              "(CPU time, because the machine is shared: wall-clock rates and the wall speed-up above move with "
              "other sessions' load); core-hours are sentences divided by that rate. Wall time divides by "
              "cores × rate × the 2-worker efficiency (records per CPU-second with 2 workers over 1, capped at "
              "1), i.e. it assumes the per-worker cost measured at 2 workers holds to 128 workers that each "
              "have a core to themselves, and adds the 2-worker cluster's start-up and slowest model load once "
              "(workers start and load in parallel). I/O is what this run measured: local disk, JSON Lines in, "
              f"Parquet out, about {statistics.mean(m['bytes_per_record'] for m in scaling['models'].values()):.0f} "
              "bytes per record in; shared or network storage, the scheduler's overhead with many workers, "
              "planning (the client reads the start of every partition) and stragglers are not measured and "
              "make real wall times longer."]
    return lines


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min"


def targets(results: dict) -> list[tuple[str, str, bool]]:
    spd, rows = results["speed"], []
    cli = [p for p in spd["pairs"] if p["stancekit"]["impl"].startswith("stancekit classify")]
    if cli:
        rows.append((f"CLI ≥ {TARGETS['cli_vs_classify']:.0%} of classify()'s throughput "
                     f"({cli[0]['n']} lines, default model, same texts)",
                     f"{cli[0]['ratio']:.2f}x", cli[0]["ratio"] >= TARGETS["cli_vs_classify"]))
    tfidf = [p for p in spd["pairs"] if p["stancekit"]["impl"] == "stancekit-tfidf"]
    if tfidf:
        slowest = min(p["stancekit"]["sentences_per_s"] for p in tfidf)
        rows.append((f"TF-IDF ≥ {TARGETS['tfidf_sentences_per_s']} sentences/s (slowest size)", f"{slowest:.0f}",
                     slowest >= TARGETS["tfidf_sentences_per_s"]))
    transformer = [p for p in spd["pairs"] if p["stancekit"]["impl"] == "stancekit-transformer"]
    if transformer:
        slowest = min(p["stancekit"]["sentences_per_s"] for p in transformer)
        ratio = min(p["ratio"] for p in transformer)
        rows.append((f"transformer ≥ {TARGETS['transformer_sentences_per_s']} sentences/s (slowest size)",
                     f"{slowest:.0f}", slowest >= TARGETS["transformer_sentences_per_s"]))
        rows.append((f"transformer ≥ {TARGETS['transformer_vs_pipeline']}x the plain pipeline", f"{ratio:.2f}x",
                     ratio >= TARGETS["transformer_vs_pipeline"]))
    if ACCURATE_SPEED.exists():
        run = json.loads(ACCURATE_SPEED.read_text(encoding="utf-8"))
        drop = max(run["quality"]["drop_points"].values())
        rows.append((f"accurate ≥ {TARGETS['accurate_vs_plain']}x plain fp32 eager, within "
                     f"{TARGETS['served_drop_points']} point of fp32", f"{run['speed']['speed_ratio']:.2f}x, "
                     f"{drop:+.2f} points", run["speed"]["speed_ratio"] >= TARGETS["accurate_vs_plain"]
                     and drop <= TARGETS["served_drop_points"]))
    from stancekit.registry import DEFAULT_MODEL

    if DISTILLATION.exists():
        run = json.loads(DISTILLATION.read_text(encoding="utf-8"))
        shipped = next((s for s in run["students"].values() if s["folder"] == "distilled"), None)
        if shipped is not None:
            rate, ratio = shipped["speed"]["sentences_per_s"]["stancekit"], shipped["speed"]["speed_ratio"]
            drop = max(shipped["quality"]["drop_points"].values())
            gap = shipped["gap_recovered"]
            rows += [(f"distilled ≥ {TARGETS['distilled_sentences_per_s']} sentences/s and ≥ "
                      f"{TARGETS['distilled_vs_plain']}x plain fp32 eager MiniLM-L6", f"{rate:.0f}, {ratio:.2f}x",
                      rate >= TARGETS["distilled_sentences_per_s"] and ratio >= TARGETS["distilled_vs_plain"]),
                     (f"distilled (ONNX int8) within {TARGETS['served_drop_points']} point of its fp32 network",
                      f"{drop:+.2f} points", drop <= TARGETS["served_drop_points"]),
                     (f"distilled recovers ≥ {TARGETS['gap_recovered']:.0%} of the teacher's lead, both labels",
                      f"{gap['stance']:.0%} / {gap['claim_type']:.0%}",
                      min(gap.values()) >= TARGETS["gap_recovered"])]
    first = spd["cold_start"].get(f"first_prediction_{DEFAULT_MODEL}_s")
    if first is not None:
        rows.append((f"first prediction of the default ({DEFAULT_MODEL}) ≤ {TARGETS['first_prediction_default_s']} s "
                     "from a cold start", f"{first:.2f} s", first <= TARGETS["first_prediction_default_s"]))
    imported = spd["cold_start"]["import_stancekit_s"]
    rows.append((f"import stancekit ≤ {TARGETS['import_s']} s", f"{imported:.3f} s", imported <= TARGETS["import_s"]))
    largest = max(results["scale"], key=lambda s: s["lines"])
    rows.append((f"peak RSS of the {largest['lines']}-line job ≤ {TARGETS['scale_peak_rss_mb']} MB",
                 f"{largest['peak_rss_mb']:.0f} MB", largest["peak_rss_mb"] <= TARGETS["scale_peak_rss_mb"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about 2 minutes")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--json", default=str(HERE / "results.json"))
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite the report from an existing results JSON file")
    args = parser.parse_args()
    if args.report_only:
        results = json.loads(Path(args.json).read_text(encoding="utf-8"))
        notes_path = HERE / "NOTES.md"
        results["notes"] = notes_path.read_text(encoding="utf-8").splitlines() if notes_path.exists() else []
        Path(args.out).write_text(report(results), encoding="utf-8")
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(HERE))
    started = time.perf_counter()
    results = {"quick": args.quick, "machine": machine()}
    for name, step in (("accuracy", accuracy), ("speed", speed), ("scale", scale)):
        print(f"benchmarks: {name}...", file=sys.stderr, flush=True)
        results[name] = step(args.quick)
    results["seconds"] = time.perf_counter() - started
    results["finished"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    notes_path = HERE / "NOTES.md"
    results["notes"] = notes_path.read_text(encoding="utf-8").splitlines() if notes_path.exists() else []
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    Path(args.out).write_text(report(results), encoding="utf-8")
    print(report(results))


if __name__ == "__main__":
    main()
