"""Throughput of ``stancekit classify --engine dask`` with 1 and 2 local workers, in one run.

    python benchmarks/dask_scaling.py        # about 4 minutes on 2 cores; writes benchmarks/dask_scaling.json

For each shipped model and each worker count: a fresh ``local_cluster`` (single-threaded
worker processes, as ``--engine dask`` starts them), timed until its workers are up (start-up); the model loaded in
every worker, timed inside each worker (model load); then ``run_dask_job`` on a JSON Lines
file of corpus sentences, one per line, into a Parquet folder (planning, reading, scoring
and writing), timed from the client, with the CPU time its workers spent and the load
average. The machine may be shared: the CPU time per record is what other processes do not
change, the wall time is not. benchmarks/run.py reports the speed-up and the cost of 100
million sentences from this file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "dask_scaling.json"
RECORDS = {"tfidf": 150_000, "transformer": 2_000, "ensemble": 2_000}
"""Records per model: each run long enough to dwarf task overheads, all runs under about 4 minutes."""
PARTITIONS = 16
WORKERS = (1, 2)


def timed_load(model: str) -> float:
    """Seconds to load ``model`` in this (worker) process."""
    from stancekit.jobs.dask_engine import worker_model

    started = time.perf_counter()
    worker_model(model, 1)
    return time.perf_counter() - started


def measure(model: str, workers: int, source: Path, folder: Path) -> dict:
    """Start a cluster of ``workers`` processes, load ``model`` in each, and score ``source``."""
    from distributed import Client

    from stancekit.jobs.dask_engine import local_cluster, run_dask_job
    from stancekit.jobs.job import ClassifyJob

    started = time.perf_counter()
    with local_cluster(workers) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)
        startup = time.perf_counter() - started
        loads = list(client.run(timed_load, model).values())
        output = folder / f"{model}-{workers}.parquet"
        job = ClassifyJob(inputs=[str(source)], model=model, output=str(output), quiet=True)
        cpu = client.run(time.process_time)
        started = time.perf_counter()
        summary = run_dask_job(job, client=client, blocksize=source.stat().st_size // PARTITIONS + 1)
        seconds = time.perf_counter() - started
        cpu = sum(spent - cpu[worker] for worker, spent in client.run(time.process_time).items())
    return {"workers": workers, "startup_s": startup, "model_load_s": loads, "seconds": seconds,
            "records": summary.written, "partitions": summary.partitions, "records_per_s": summary.written / seconds,
            "worker_cpu_s": cpu, "records_per_cpu_s": summary.written / cpu, "load_average": os.getloadavg()[0]}


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(HERE))
    from run import machine
    from worker import corpus_sentences

    from stancekit.artifacts import shipped_models

    started = time.perf_counter()
    results = {"machine": machine(), "partitions_per_job": PARTITIONS, "models": {}}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        for model in shipped_models():
            source = folder / f"{model}.jsonl"
            with open(source, "w", encoding="utf-8") as handle:
                for text in corpus_sentences(RECORDS[model]):
                    handle.write(json.dumps({"text": " ".join(text.split())}, ensure_ascii=False) + "\n")
            runs = []
            for workers in WORKERS:
                print(f"dask_scaling: {model}, {workers} worker(s)...", file=sys.stderr, flush=True)
                runs.append(measure(model, workers, source, folder))
            results["models"][model] = {"records": RECORDS[model], "bytes_per_record": source.stat().st_size
                                        / RECORDS[model], "runs": runs,
                                        "speedup": runs[-1]["records_per_s"] / runs[0]["records_per_s"],
                                        "cpu_efficiency": runs[-1]["records_per_cpu_s"] / runs[0]["records_per_cpu_s"]}
    results["seconds"] = time.perf_counter() - started
    results["finished"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    OUTPUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({m: round(r["speedup"], 2) for m, r in results["models"].items()}))


if __name__ == "__main__":
    main()
