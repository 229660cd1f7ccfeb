"""Students distilled from the accurate tier at several depths: quality, gap recovery, speed and size.

    python benchmarks/distillation.py runs/distilled-L6 runs/distilled-L4 runs/distilled-L3 \\
        --reference runs/ensemble-2.0.0.json

Every student (a model folder, or a shipped name) and the teacher (the model named in
annotations/transfer/teacher.json) are scored on the test split, its v1 documents and the
contrast set. ``--reference`` is a JSON file written by ``stancekit evaluate --json`` for
the default the students replace, on the same test split; the gap recovered is
``(student - reference) / (teacher - reference)`` in test macro-F1, per label. Speed is
benchmarks/inference_speed.py's paired run (ONNX Runtime int8 against plain fp32 eager
all-MiniLM-L6-v2, the same test sentences), and quality as served against the student's own
fp32 network. Writes benchmarks/distillation.json, which benchmarks/run.py reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from inference_speed import prepare, quality, speed  # noqa: E402
from run import held_out_sets, model_scores  # noqa: E402

TASKS = ("stance", "claim_type")


def folder_megabytes(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 1)


def gap_recovered(student: dict, teacher: dict, reference: dict) -> dict:
    """The share of the teacher's lead over the reference that the student keeps, per label (test macro-F1)."""
    return {task: round((student[task]["macro_f1"] - reference[task])
                        / (teacher[task]["macro_f1"] - reference[task]), 3) for task in TASKS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("students", nargs="+", help="student model folders or names")
    parser.add_argument("--reference", required=True, help="`stancekit evaluate --json` of the replaced default")
    parser.add_argument("--sentences", type=int, default=1024, help="test sentences timed")
    parser.add_argument("--out", default=str(HERE / "distillation.json"))
    args = parser.parse_args()

    from stancekit.artifacts import read_config
    from stancekit.registry import load_model, resolve

    reference_run = json.loads(Path(args.reference).read_text(encoding="utf-8"))
    reference = {"model": f"{reference_run['model']} {reference_run['model_version']}",
                 **{task: round(reference_run["tasks"][task]["macro_f1"], 4) for task in TASKS}}
    teacher_record = json.loads((HERE.parent / "annotations" / "transfer" / "teacher.json")
                                .read_text(encoding="utf-8"))["teacher"]
    sets = held_out_sets()
    teacher = model_scores(load_model(teacher_record["name"]), sets)
    result = {"reference": reference, "teacher": {**teacher_record, "scores": teacher},
              "transfer": json.loads((HERE.parent / "annotations" / "transfer" / "transfer_stats.json")
                                     .read_text(encoding="utf-8")),
              "students": {}}
    texts = [r["text"] for r in sets["test"]][:args.sentences]
    for student in args.students:
        folder = resolve(student)
        config = read_config(folder)
        served, network = prepare(str(folder))
        scores = model_scores(served, sets)
        settings = config["settings"]
        label = (f"{settings['layers']} layers, {settings['epochs']} epochs"
                 + (" (shipped)" if student == "distilled" else ""))
        result["students"][label] = {
            "folder": student, "settings": settings,
            "training_seconds": config["training"]["seconds"], "megabytes": folder_megabytes(folder),
            "scores": scores, "gap_recovered": gap_recovered(scores["test"], teacher["test"], reference),
            "speed": speed(served, network, texts), "quality": quality(served, sets["test"])}
        print(json.dumps({label: result["students"][label]["speed"]}), file=sys.stderr)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
