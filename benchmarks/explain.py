"""Faithfulness and cost of explanations, and the scope check's false positives: writes explain.json.

    python benchmarks/explain.py              # about 5 minutes on 2 cores
    python benchmarks/explain.py --sample 40  # fewer transformer/ensemble sentences

Deletion test: for every test-split sentence (a seeded sample for the transformer and the
ensemble, whose occlusion scores every word's deletion), delete the evidence that pushed
toward each predicted label and score the text again with the model's ordinary path.
The share of sentences whose label probability went down is the faithfulness figure; as
a floor, the same number of words chosen at random is deleted instead. Sentences without
evidence toward the label count as not lowered. The same deletions are also measured as the
drop in the label's log-odds (``log p(label) - mean log p``, the scale of the evidence
weights), over all sentences and over the confident ones (label probability at least
``CONFIDENT``), where a probability hardly moves whatever is deleted. Cost: seconds per
sentence with and without ``explain=True`` on the same sentences. Scope: the share of shipped corpus
sentences (all English) flagged out of scope, and the check's cost per sentence.
benchmarks/run.py reports this file when it exists.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "explain.json"
CONFIDENT = 0.95
"""Label probability from which a sentence counts as confident (its probability is saturated)."""


def deletion_test(name: str, texts: list[str]) -> dict:
    """Explain each text, delete its evidence toward each label, and compare with random deletions."""
    import numpy as np

    from stancekit import classify, load_model
    from stancekit.classifiers.explanations import delete_spans, log_odds, words
    from stancekit.labels import TASKS

    model = load_model(name)
    classify(texts[:2], model=name, explain=True)  # warm-up: fp32 copies, tokenizer, identifier
    started = time.perf_counter()
    plain = classify(texts, model=name)
    plain_s = time.perf_counter() - started
    started = time.perf_counter()
    explained = classify(texts, model=name, explain=True)
    explain_s = time.perf_counter() - started
    rng = random.Random(0)
    deleted, randomised, drops, random_drops = {}, {}, {}, {}
    log_drops, random_log_drops, confident, confident_log_drops, confident_random_log_drops = {}, {}, {}, {}, {}
    for task in TASKS:
        column = TASKS.index(task)
        without, at_random, has_evidence = [], [], []
        for text, prediction in zip(texts, explained):
            toward = [(i["start"], i["end"]) for i in prediction.evidence[task] if i["weight"] > 0]
            has_evidence.append(bool(toward))
            without.append(delete_spans(text, toward))
            spans = words(text)
            count = sum(len([w for w in spans if s <= w[0] and w[1] <= e]) for s, e in toward)
            at_random.append(delete_spans(text, rng.sample(spans, min(count, len(spans)))))
        labels = [list(model.classes_[column]).index(getattr(p, task)) for p in plain]
        rows = np.arange(len(texts))
        full, full_without, full_random = (model.predict_proba(variant)[column]
                                           for variant in (texts, without, at_random))
        before, after, after_random = (p[rows, labels] for p in (full, full_without, full_random))
        evidence = np.array(has_evidence)
        deleted[task] = float(np.mean((after < before) & evidence))
        randomised[task] = float(np.mean((after_random < before) & evidence))
        drops[task] = float(np.mean(before - after))
        random_drops[task] = float(np.mean(before - after_random))
        log_drop = log_odds(full, labels) - log_odds(full_without, labels)
        random_log_drop = log_odds(full, labels) - log_odds(full_random, labels)
        sure = before >= CONFIDENT
        log_drops[task], random_log_drops[task] = float(log_drop.mean()), float(random_log_drop.mean())
        confident[task] = int(sure.sum())
        confident_log_drops[task] = float(log_drop[sure].mean()) if sure.any() else None
        confident_random_log_drops[task] = float(random_log_drop[sure].mean()) if sure.any() else None
    return {"sentences": len(texts), "method": explained[0].evidence["method"],
            "share_lowered": deleted, "share_lowered_random_words": randomised,
            "mean_probability_drop": drops, "mean_probability_drop_random_words": random_drops,
            "mean_log_odds_drop": log_drops, "mean_log_odds_drop_random_words": random_log_drops,
            "confident_sentences": confident, "confident_mean_log_odds_drop": confident_log_drops,
            "confident_mean_log_odds_drop_random_words": confident_random_log_drops,
            "plain_ms_per_sentence": 1000 * plain_s / len(texts),
            "explain_ms_per_sentence": 1000 * explain_s / len(texts)}


def scope_check() -> dict:
    """False positives of the scope check on the shipped corpus (all English) and its cost."""
    from stancekit.data import load_records
    from stancekit.data.language import detect_scope

    texts = [record["text"] for record in load_records()]
    detect_scope("warm-up: the identifier loads on first use, ce texte est en français")
    started = time.perf_counter()
    flagged = [text for text in texts if not detect_scope(text).in_scope]
    seconds = time.perf_counter() - started
    return {"corpus_sentences": len(texts), "flagged_out_of_scope": len(flagged),
            "false_positive_rate": len(flagged) / len(texts), "flagged": flagged[:20],
            "us_per_sentence": 1e6 * seconds / len(texts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=100,
                        help="test sentences for the transformer and the ensemble (default: 100)")
    parser.add_argument("--out", default=str(OUTPUT))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from stancekit.artifacts import shipped_models
    from stancekit.data import load_records, read_split_assignment, split_records

    test = [r["text"] for r in split_records(load_records(), read_split_assignment())["test"]]
    sample = random.Random(0).sample(test, min(args.sample, len(test)))
    started = time.perf_counter()
    models = {}
    for name in shipped_models():
        print(f"explain benchmark: {name}...", file=sys.stderr, flush=True)
        models[name] = deletion_test(name, test if name == "tfidf" else sample)
    result = {"test_sentences": len(test), "models": models, "scope": scope_check(),
              "seconds": time.perf_counter() - started}
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({name: m["share_lowered"] for name, m in models.items()}))


if __name__ == "__main__":
    main()
