"""One measurement in a fresh process, printed as one JSON line (used by benchmarks/run.py).

    python benchmarks/worker.py throughput IMPL N BATCH   # sentences/s and peak RSS of IMPL on N corpus sentences
    python benchmarks/worker.py command -- CMD...          # wall time and peak RSS of a command

IMPL is one of: stancekit-tfidf, sklearn-tfidf, stancekit-transformer, stancekit-ensemble, hf-pipeline,
classify-tfidf (stancekit.classify on a list: Prediction objects, as a script would get them).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time


def corpus_sentences(n: int) -> list[str]:
    """``n`` corpus sentences (the corpus repeated as needed), in a fixed shuffled order."""
    import random

    from stancekit.data import corpus_files
    from stancekit.io.lines import iter_jsonl

    texts = [record["text"] for path in corpus_files() for _, record in iter_jsonl(path)]
    random.Random(0).shuffle(texts)
    return [texts[i % len(texts)] for i in range(n)]


def training_data():
    from stancekit.data import load_records, read_split_assignment, split_records

    train = split_records(load_records(), read_split_assignment())["train"]
    return [r["text"] for r in train], [r["stance"] for r in train]


def sklearn_tfidf():
    """The plain scikit-learn pipeline: TfidfVectorizer (word 1-2 + char_wb 2-5) and LogisticRegression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, labels = training_data()
    pipeline = make_pipeline(
        make_union(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
        LogisticRegression(max_iter=2000)).fit(texts, labels)
    return pipeline.predict_proba


def stancekit_model(name: str):
    from stancekit import load_model

    return load_model(name).predict_proba


def classify_texts(name: str):
    from stancekit import classify

    return lambda texts: classify(texts, model=name)


def hf_pipeline(batch_size: int):
    """transformers.pipeline("text-classification") over the same fine-tuned weights (fp32) and
    the stance head, with the same mean pooling: what a plain transformers user would run."""
    from stancekit import load_model
    from stancekit.classifiers.hf_pipeline import to_pipeline

    model = load_model("transformer")
    classifier = to_pipeline(model, task="stance")
    return lambda texts: classifier(texts, batch_size=batch_size, truncation=True,
                                    max_length=model.max_length, top_k=None)


def throughput(impl: str, n: int, batch_size: int) -> dict:
    texts = corpus_sentences(n)
    started = time.perf_counter()
    # "stancekit-NAME": the model's predict_proba; "classify-NAME": classify(texts, model=NAME)
    kind, _, name = impl.partition("-")
    predict = {"sklearn": sklearn_tfidf, "hf": lambda: hf_pipeline(batch_size),
               "stancekit": lambda: stancekit_model(name), "classify": lambda: classify_texts(name)}[kind]()
    setup = time.perf_counter() - started
    predict(texts[:batch_size])  # warm-up
    started = time.perf_counter()
    for start in range(0, n, batch_size):
        predict(texts[start:start + batch_size])
    seconds = time.perf_counter() - started
    return {"impl": impl, "n": n, "batch_size": batch_size, "setup_s": setup, "seconds": seconds,
            "sentences_per_s": n / seconds, "peak_rss_mb": own_peak_rss_mb()}


def own_peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across fork)."""
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def command(argv: list[str]) -> dict:
    started = time.perf_counter()
    process = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"command failed ({process.returncode}): {' '.join(argv)}\n{process.stderr}")
    return {"command": argv, "seconds": seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    kind = sys.argv[1]
    if kind == "throughput":
        result = throughput(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif kind == "command":
        result = command(sys.argv[sys.argv.index("--") + 1:])
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
