"""How honest are the profile's intervals and change test? Simulations on made-up scored records.

    python benchmarks/profile_changes.py            # about 4 minutes on 2 busy cores
    python benchmarks/profile_changes.py --quick    # fewer repetitions, about 1 minute

Writes benchmarks/profile_changes.json; benchmarks/run.py reports it in RESULTS.md.

1. Coverage: how often the 95 % interval of a share holds the true share, by the number
   of documents in the group, for the document bootstrap that stancekit uses and for a
   sentence-level bootstrap that ignores documents (both with stancekit's expanded
   percentile interval). Articles have 2-12 sentences, and each article has its own rate
   of the label (Beta-distributed around the true share, so that sentences of one article
   are alike: intra-article correlation 0.2). This is what ``MIN_DOCUMENTS`` rests on.
2. False alarms: six outlets over twelve months with no change at all (each outlet keeps its
   own mix of labels; articles vary around it). How often a move's interval excludes 0
   (nominal 5 % per move), and how often a whole run lists any change, with each move tested
   alone and with the default Benjamini–Hochberg adjustment.
3. Power: the same data with one outlet's regime share raised by a known amount from July
   on. How often the change test lists that move (and how often its interval alone excludes
   0), the size it reports, and how often the reported interval holds the injected size.

Everything goes through stancekit's own code: ``aggregate.bootstrap_ratios`` and
``aggregate.interval_quantiles`` for (1), ``stancekit.profile_changes`` for (2) and (3).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "profile_changes.json"
OUTLETS = 6
MONTHS = 12
SHIFT_MONTH = 7
STANCE_MIX = [(0.7, 0.05, 0.25), (0.6, 0.1, 0.3), (0.05, 0.7, 0.25), (0.05, 0.55, 0.4), (0.1, 0.1, 0.8),
              (0.2, 0.35, 0.45)]
"""(regime, opposition, neutral) share of each made-up outlet's sentences."""
CONCENTRATION = 4.0
"""Articles' label rates vary around the outlet's mix as a Dirichlet/Beta of this concentration (ICC 0.2)."""


def coverage(documents: list[int], shares: list[float], repetitions: int, resamples: int, seed: int) -> list[dict]:
    """Share of repetitions whose 95 % interval holds the true share, document and sentence bootstrap."""
    from stancekit.profiles.aggregate import bootstrap_ratios, interval_quantiles

    rng = np.random.default_rng(seed)
    rows = []
    for count in documents:
        for share in shares:
            held = {"documents": 0, "sentences": 0}
            for _ in range(repetitions):
                sizes = rng.integers(2, 13, size=count)
                rates = rng.beta(share * CONCENTRATION, (1 - share) * CONCENTRATION, size=count)
                labelled = rng.binomial(sizes, rates)
                per_sentence = np.concatenate([np.r_[np.ones(k), np.zeros(n - k)] for n, k in zip(sizes, labelled)])
                for method, values, weights in (("documents", labelled, sizes),
                                                ("sentences", per_sentence, np.ones(len(per_sentence)))):
                    draws = bootstrap_ratios(values[:, None].astype(float), weights.astype(float), resamples, rng)
                    low, high = np.quantile(draws[:, 0], interval_quantiles(len(weights)))
                    held[method] += low <= share <= high
            rows.append({"documents": count, "share": share, "repetitions": repetitions,
                         **{f"coverage_{method}": held[method] / repetitions for method in held}})
    return rows


def scored_frame(rng: np.random.Generator, articles: int, shift: float = 0.0):
    """Made-up scored sentences: OUTLETS outlets, MONTHS months, ``articles`` articles a month each.

    Outlet 0's regime share rises by ``shift`` from SHIFT_MONTH on (taken from the other two stances
    in proportion). Claim types follow a fixed mix with a rare type (2 %), so that sparse labels are tested too.
    """
    import pandas

    claims = ["terrorism", "repression", "censorship", "foreign_interference", "legitimacy", "glorification",
              "threat", "economic", "mobilization", "none"]
    claim_mix = np.array([0.02, 0.12, 0.06, 0.1, 0.08, 0.07, 0.05, 0.15, 0.1, 0.25])
    stances = np.array(["regime", "opposition", "neutral"])
    columns = {name: [] for name in ("outlet", "date", "document", "stance", "claim_type")}
    for outlet in range(OUTLETS):
        for month in range(1, MONTHS + 1):
            mix = np.array(STANCE_MIX[outlet], dtype=float)
            if outlet == 0 and month >= SHIFT_MONTH and shift:
                rest = mix[1:] / mix[1:].sum()
                mix = np.r_[mix[0] + shift, mix[1:] - shift * rest]
            for article in range(articles):
                size = int(rng.integers(2, 13))
                stance_rates = rng.dirichlet(mix * CONCENTRATION)
                claim_rates = rng.dirichlet(claim_mix * CONCENTRATION * 2)
                columns["outlet"] += [f"outlet {outlet}"] * size
                columns["date"] += [f"2025-{month:02d}-{article % 28 + 1:02d}"] * size
                columns["document"] += [f"{outlet}-{month}-{article}"] * size
                columns["stance"] += list(stances[rng.choice(3, size=size, p=stance_rates)])
                columns["claim_type"] += [claims[i] for i in rng.choice(len(claims), size=size, p=claim_rates)]
    frame = pandas.DataFrame(columns)
    frame["stance_confidence"] = rng.uniform(0.4, 1.0, len(frame))
    frame["claim_confidence"] = rng.uniform(0.3, 1.0, len(frame))
    frame["in_scope"] = True
    return frame


def change_runs(seeds: int, articles: int, shift: float, resamples: int) -> dict:
    """Run the change test on ``seeds`` made-up data sets; count flagged moves, alone and adjusted."""
    from stancekit import profile_changes

    tested = flagged_alone = flagged_adjusted = 0
    runs_with_alarm_alone = runs_with_alarm_adjusted = 0
    found_alone = found = held = 0
    sizes = []
    for seed in range(seeds):
        frame = scored_frame(np.random.default_rng(10_000 + seed), articles, shift)
        moves = profile_changes(frame, by="outlet", time="date", every="month", document="document",
                                resamples=resamples, seed=seed)
        shifted = ((moves["outlet"] == "outlet 0") & (moves["period_after"] == f"2025-{SHIFT_MONTH:02d}")
                   & (moves["task"] == "stance"))
        target = shifted & (moves["label"] == "regime")
        alone = moves["tested"] & ((moves["low"] > 0) | (moves["high"] < 0))
        others = ~shifted if shift else np.ones(len(moves), bool)  # the shift also moves the other stances
        tested += int((moves["tested"] & others).sum())
        flagged_alone += int((alone & others).sum())
        flagged_adjusted += int((moves["changed"] & others).sum())
        runs_with_alarm_alone += bool((alone & others).any())
        runs_with_alarm_adjusted += bool((moves["changed"] & others).any())
        if shift:
            move = moves[target].iloc[0]
            found += bool(move["changed"])
            found_alone += bool(move["low"] > 0)
            sizes.append(float(move["change"]))
            held += bool(move["low"] <= shift <= move["high"])
    result = {"seeds": seeds, "articles_per_month": articles, "shift": shift, "resamples": resamples,
              "tested_moves": tested, "moves_per_run": tested / seeds,
              "false_alarm_rate_per_move_alone": flagged_alone / tested,
              "false_alarms_per_run_adjusted": flagged_adjusted / seeds,
              "runs_with_any_false_alarm_alone": runs_with_alarm_alone / seeds,
              "runs_with_any_false_alarm_adjusted": runs_with_alarm_adjusted / seeds}
    if shift:
        result.update(found=found / seeds, found_alone=found_alone / seeds, mean_reported_change=float(np.mean(sizes)),
                      interval_holds_shift=held / seeds)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    options = parser.parse_args()
    repetitions, null_seeds, shift_seeds = (100, 20, 10) if options.quick else (500, 80, 40)
    started = time.perf_counter()
    results = {"run": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "quick": options.quick,
               "python": platform.python_version(),
               "coverage": coverage([3, 5, 10, 20, 50], [0.1, 0.3, 0.5], repetitions, 1000, seed=7)}
    print("coverage done", flush=True)
    results["null"] = [change_runs(null_seeds, articles, 0.0, 1000) for articles in (12, 30)]
    print("null done", flush=True)
    results["shift"] = [change_runs(shift_seeds, 20, shift, 1000) for shift in (0.1, 0.2, 0.3)]
    results["seconds"] = round(time.perf_counter() - started)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
