"""The ``stancekit`` command line: a thin layer over the library that maps errors to exit codes.

Exit status: 0 success; 1 ``validate`` found problems; 2 an error (bad input, unknown
model, bad arguments), reported as one line ``stancekit: error: ...`` on stderr. The
library's messages name its arguments (`resume`); each command shows them as its flags
(``--resume``): a flag's destination is the argument's name.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from typing import Sequence

from . import __version__
from .data.near_duplicates import DEFAULT_THRESHOLD as NEAR_DUPLICATE_THRESHOLD
from .errors import InputError, StancekitError, StancekitWarning

EXIT_PROBLEMS = 1
EXIT_ERROR = 2
FUNCTION_COMMANDS = {"validate_files": "'stancekit validate'"}
"""Library functions that messages name, as the commands that run them."""
TRUNCATED_WARNING_SHARE = 0.1
"""A job in which at least this share of the texts was truncated (and not split into sentences) ends
with a warning suggesting --split-sentences: whole articles passed as texts are all truncated."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from .registry import DEFAULT_MODEL, MODEL_KINDS

    model_help = f"model name or folder (default: {DEFAULT_MODEL})"

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars or notes on stderr")
    common.add_argument("--debug", action="store_true", help="show a traceback on errors")
    device = argparse.ArgumentParser(add_help=False)
    device.add_argument("--device", help="where a transformer model runs: cpu (default) or cuda (a GPU torch sees)")

    parser = argparse.ArgumentParser(
        prog="stancekit", parents=[common],
        description="Label sentences about Iranian politics by source stance and propaganda-claim type.")
    parser.add_argument("--version", action="version", version=f"stancekit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    classify = commands.add_parser("classify", parents=[common, device], help="label texts from files or stdin",
                                   description="Label every text of the INPUT files (.txt: one text "
                                   "per line; .jsonl; .csv; .parquet; '-' for stdin). Every input field is "
                                   "kept unchanged; the prediction fields and the record's input_file and "
                                   "input_line are added. With --split-sentences each text is a document "
                                   "labeled sentence by sentence (sentences never cross lines, so a .txt file "
                                   "gives the sentences that 'stancekit report' shows for it, one document per "
                                   "line). With --engine dask, INPUT may be a glob and the output is a Parquet "
                                   "folder, one file per partition.")
    classify.add_argument("inputs", nargs="+", metavar="INPUT")
    classify.add_argument("-o", "--output", help="output file (.jsonl or .csv); default: stdout")
    classify.add_argument("--format", choices=("jsonl", "csv", "table"), dest="output_format",
                          help="output format (default: by the output's extension; stdout: jsonl)")
    classify.add_argument("--input-format", choices=("txt", "jsonl", "csv", "parquet"),
                          help="input format (default: by extension; stdin: txt)")
    classify.add_argument("--text-field", default="text", help="field or column holding the text (default: text)")
    classify.add_argument("--split-sentences", action="store_true",
                          help="treat each text as a document: label each sentence, with offsets")
    classify.add_argument("-m", "--model", default=None,
                          help=f"shipped model name (`stancekit info` lists them) or model folder (default: {DEFAULT_MODEL})")
    classify.add_argument("--batch-size", type=_positive_int, default=256, help="texts per batch (default: 256)")
    classify.add_argument("--prefix", default="",
                          help="prefix for the names of every added field, e.g. pred_ when the input already "
                          "has a field named like one (stance, claim_type, ...); default: none")
    classify.add_argument("--explain", action="store_true",
                          help="add evidence: the words and phrases that pushed toward and against each "
                          "predicted label, as character spans with signed weights (slower; see README)")
    classify.add_argument("--resume", action="store_true",
                          help="continue an interrupted job writing to the same --output")
    classify.add_argument("--skip-errors", action="store_true",
                          help="skip unreadable records (reported on stderr) instead of stopping")
    classify.add_argument("--rejects", help="with --skip-errors and --output: write the skipped records to this "
                          "JSONL file")
    classify.add_argument("--engine", choices=("local", "dask"), default="local",
                          help="local: this process (default); dask: partitions on a Dask cluster, written to "
                          "the Parquet folder -o; a rerun skips partitions already written (needs stancekit[dask])")
    classify.add_argument("--scheduler", metavar="ADDRESS",
                          help="with --engine dask: a running Dask scheduler (default: start a local cluster)")
    classify.add_argument("--workers", type=_positive_int,
                          help="with --engine dask and no --scheduler: worker processes (default: one per core)")
    classify.add_argument("--blocksize", type=_positive_int, metavar="BYTES",
                          help="with --engine dask: bytes of .jsonl/.txt input per partition (default: 64 MiB)")

    evaluate = commands.add_parser("evaluate", parents=[common, device], help="score a model against labeled data",
                                   description="Compare a model's predictions with the labels of "
                                   "DATA (JSON Lines following annotations/schema.json).")
    evaluate.add_argument("data", nargs="+", metavar="DATA")
    evaluate.add_argument("-m", "--model", default=None, help=model_help)
    evaluate.add_argument("--split", choices=("all", "train", "dev", "test"), default="all",
                          help="evaluate only the records of this split (default: all)")
    evaluate.add_argument("--splits", help="split file (default: the shipped annotations/splits.json)")
    evaluate.add_argument("--seed", type=int, default=13,
                          help="seed that assigns documents missing from the split file (default: 13)")
    evaluate.add_argument("--by-document", action="store_true",
                          help="also report the share of documents with every record right (for contrast "
                          "sets: documents are the minimal groups)")
    evaluate.add_argument("--report", help="write a Markdown report here")
    evaluate.add_argument("--json", help="write all metrics as JSON here")
    evaluate.add_argument("--plot", help="write the confusion matrices as a PNG here")
    evaluate.add_argument("--plot-scores", help="write score distributions and reliability curves as a PNG here")

    train = commands.add_parser("train", parents=[common, device], help="train a model on labeled data",
                                description="Fit on the train split, select on dev, report dev and "
                                "test scores, and save the model with a model card.")
    train.add_argument("--model", choices=list(MODEL_KINDS), required=True, dest="kind",
                       help="the kind of model: " + "; ".join(f"{kind}: {spec.help}"
                                                               for kind, spec in MODEL_KINDS.items()))
    train.add_argument("--data", nargs="+", help="labeled JSON Lines files (default: the shipped corpus)")
    train.add_argument("--splits", help="split file (default: the shipped annotations/splits.json)")
    train.add_argument("--out", required=True,
                       help="folder to save the model in: new or empty, or a model folder with --overwrite")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the model in --out (a folder that is not a model is never replaced)")
    train.add_argument("--name", help="the model's name, reported with every prediction (default: the kind)")
    train.add_argument("--version", dest="model_version",
                       help="the model's version, reported with every prediction (default: 1.0.0)")
    train.add_argument("--members", nargs="+", metavar="MODEL",
                       help="with --model ensemble: combine these trained models (names or folders) on "
                       "the dev split instead of training new members; the ensemble refers to them")
    train.add_argument("--transfer", metavar="FOLDER",
                       help="distil: learn a teacher's probabilities on the transfer texts in FOLDER "
                       "(transfer.jsonl, teacher_labels.jsonl, teacher.json; the repository's annotations/transfer is one), "
                       "mixed with the gold labels of train-split texts")
    train.add_argument("--gold-weight", type=float, default=0.5, metavar="W",
                       help="with --transfer: the weight of the gold label in a train text's target (default 0.5)")
    train.add_argument("--resume", action="store_true",
                       help="continue a training into --out that was interrupted, from its last finished "
                       "epoch (the same command otherwise); the result equals an uninterrupted run")
    train.add_argument("--seed", type=int, default=13, help="random seed (default: 13)")
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a model parameter, e.g. --param epochs=6 (JSON values)")

    validate = commands.add_parser("validate", parents=[common], help="check labeled files against the schema",
                                   description="Check labeled files against annotations/schema.json, "
                                   "and look for near-duplicate texts across documents (character "
                                   "n-gram TF-IDF cosine similarity).")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--similarity", type=_similarity, default=str(NEAR_DUPLICATE_THRESHOLD),
                          metavar="THRESHOLD", help="report texts of different documents at least this "
                          f"similar, 0-1 (default: {NEAR_DUPLICATE_THRESHOLD}; 'off' skips the check)")

    report = commands.add_parser("report", parents=[common], help="write an HTML report of documents",
                                 description="Label every sentence of INPUT (a .txt file: one document; "
                                 ".jsonl: one document per record) with evidence, and write one "
                                 "self-contained HTML page that works offline and in print. Its sentences "
                                 "are those of 'stancekit classify --split-sentences' (which reads a .txt "
                                 "file as one text per line; sentences never cross lines).")
    report.add_argument("input", metavar="INPUT")
    report.add_argument("-o", "--output", required=True, help="the HTML file to write")
    report.add_argument("--text-field", default="text", help="JSON Lines field holding the text (default: text)")
    report.add_argument("-m", "--model", default=None, help=model_help)

    info = commands.add_parser("info", parents=[common], help="show shipped models, label scheme and versions",
                               description="Without MODEL: stancekit's versions, the label scheme and the "
                               "shipped models. With MODEL: that model's name, version, kind, label scheme, "
                               "training data hash, held-out scores and files.")
    info.add_argument("model", nargs="?", metavar="MODEL", help="a shipped model name or a model folder")
    add_profile_parser(commands, common, device)
    for add_parser in (add_export_parser, add_import_parser, add_suggest_parser, add_audit_parser):
        add_parser(commands, common)
    for command in commands.choices.values():
        command.set_defaults(spelling={action.dest: action.option_strings[-1] for action in command._actions
                                       if action.option_strings})
    return parser


def _similarity(value: str) -> float | None:
    if value == "off":
        return None
    try:
        threshold = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 or 'off', got {value!r}") from None
    if not 0 < threshold <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {threshold}")
    return threshold


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    handler = {"classify": run_classify, "evaluate": run_evaluate, "train": run_train,
               "validate": run_validate, "report": run_report, "info": run_info, "profile": run_profile,
               "export": run_export, "import": run_import, "suggest": run_suggest, "audit": run_audit}[args.command]
    try:
        return handler(args)
    except BrokenPipeError:
        # the reader went away (e.g. '| head'): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except (StancekitError, OSError, ValueError, TypeError) as exc:
        if args.debug:
            raise
        print(f"stancekit: error: {_one_line(exc, args.spelling)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as interrupt:
        detail = f"; {interrupt}" if str(interrupt) else ""
        print(f"stancekit: interrupted{detail}", file=sys.stderr)
        return 130


_SHOW_WARNING = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """stancekit's own warnings as one line ``stancekit: warning: ...``; others as Python shows them."""
    if issubclass(category, StancekitWarning):
        print(f"stancekit: warning: {message}", file=sys.stderr)
    else:
        _SHOW_WARNING(message, category, filename, lineno, file, line)


def _one_line(exc: BaseException, spelling: dict[str, str]) -> str:
    """The error's message on one line, the library's argument names spelled as this command's flags."""
    message = exc.spelled({**FUNCTION_COMMANDS, **spelling}) if isinstance(exc, StancekitError) else str(exc)
    message = message or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename:
        message = f"{exc.filename}: {exc.strerror}"
    return " ".join(message.split())


def _note(args, message: str) -> None:
    if not args.quiet:
        print(f"stancekit: {message}", file=sys.stderr)


def _model_name(args) -> str:
    from .registry import DEFAULT_MODEL

    return args.model or DEFAULT_MODEL


# classify ---------------------------------------------------------------------------------------

def run_classify(args) -> int:
    from .jobs.job import ClassifyJob
    from .jobs.local import run_job

    job = ClassifyJob(inputs=args.inputs, model=_model_name(args), output=args.output,
                      output_format=args.output_format, input_format=args.input_format, text_field=args.text_field,
                      split_sentences=args.split_sentences, batch_size=args.batch_size, prefix=args.prefix,
                      explain=args.explain, resume=args.resume, skip_errors=args.skip_errors,
                      rejects=args.rejects, quiet=args.quiet, device=args.device or "cpu")
    if args.engine == "dask":
        return _classify_on_dask(args, job)
    dask_options = [name for name in ("scheduler", "workers", "blocksize") if getattr(args, name) is not None]
    if dask_options:
        raise InputError(f"--{dask_options[0]} needs --engine dask")
    if args.output and args.output.lower().endswith(".parquet"):
        raise InputError("Parquet output needs --engine dask (a Parquet folder, one file per partition)")
    try:
        summary = run_job(job, sys.stdout)
    except KeyboardInterrupt:
        if args.output:
            raise KeyboardInterrupt(f"run again with --resume to continue {args.output}") from None
        raise
    if summary.resumed_after:
        _note(args, f"resumed after {summary.resumed_after} input records")
    _report_skipped(args, summary.bad_records)
    _close_job(args, summary)
    return 0


def _classify_on_dask(args, job) -> int:
    from .jobs.dask_engine import DEFAULT_BLOCKSIZE, run_dask_job

    summary = run_dask_job(job, scheduler=args.scheduler, workers=args.workers,
                           blocksize=args.blocksize or DEFAULT_BLOCKSIZE)
    if summary.partitions_skipped:
        _note(args, f"{summary.partitions_skipped} of {summary.partitions} partitions were already written")
    _close_job(args, summary)
    return 0


def _close_job(args, summary) -> None:
    """The job's closing line, and warnings for an output without records or with many truncated texts."""
    _note(args, summary.line())
    if summary.written == 0:
        print("stancekit: warning: no records written: the input holds no text", file=sys.stderr)
    elif not args.split_sentences and summary.truncated >= TRUNCATED_WARNING_SHARE * summary.written:
        print(f"stancekit: warning: {summary.truncated} of {summary.written} texts were longer than the model "
              "reads and were truncated; to label whole articles, add --split-sentences (one record per "
              "sentence)", file=sys.stderr)


def _report_skipped(args, skipped: list) -> None:
    if not skipped:
        return
    where = ", ".join(f"{b.error.path}:{b.error.line}" for b in skipped[:20])
    more = f" and {len(skipped) - 20} more" if len(skipped) > 20 else ""
    print(f"stancekit: skipped {len(skipped)} bad record(s): {where}{more}", file=sys.stderr)
    if not args.quiet:
        for bad in skipped[:20]:
            print(f"stancekit:   {bad.error}", file=sys.stderr)


# evaluate, train, validate, info ------------------------------------------------------------------

def run_evaluate(args) -> int:
    from .data.corpus import load_records, read_split_assignment, split_records
    from .evaluation.plots import plot_confusion, plot_scores
    from .evaluation.reports import summary_table, write_json, write_report
    from .evaluation.results import evaluate_model
    from .io.outputs import check_distinct_paths
    from .registry import load_model

    check_distinct_paths([*args.data, *([args.splits] if args.splits else [])],
                         [args.report, args.json, args.plot, args.plot_scores])
    records = load_records(args.data)
    if not records:
        raise InputError(f"no labeled records in {', '.join(args.data)}: nothing to evaluate")
    data_name = ", ".join(args.data) if len(args.data) <= 2 else f"{len(args.data)} files"
    if args.split != "all":
        records = split_records(records, read_split_assignment(args.splits), seed=args.seed)[args.split]
        data_name += f" ({args.split} split)"
        if not records:
            raise InputError(f"no record of {', '.join(args.data)} belongs to the {args.split} split")
    model = load_model(_model_name(args), args.device or "cpu")
    result = evaluate_model(model, records, data=data_name, quiet=args.quiet, by_document=args.by_document)
    print(summary_table(result))
    for task, metrics in result.tasks.items():
        confused = "; ".join(f"{g} → {p} ({n})" for g, p, n in metrics.most_confused[:3]) or "none"
        print(f"most confused {task}: {confused}")
    if args.report:
        write_report(result, args.report)
    if args.json:
        write_json(result, args.json)
    if args.plot:
        plot_confusion(result, args.plot)
    if args.plot_scores:
        plot_scores(result, args.plot_scores)
    return 0


def run_train(args) -> int:
    import json

    from .evaluation.reports import summary_table
    from .jobs.training import train

    params = {}
    for item in args.param:
        name, separator, value = item.partition("=")
        if not separator:
            raise InputError(f"--param {item!r}: expected NAME=VALUE")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    if args.name:
        params["name"] = args.name
    if args.model_version:
        params["version"] = args.model_version
    if args.device:
        from .registry import classifier_class

        if "device" in classifier_class(args.kind)().get_params(deep=False):
            params["device"] = args.device
        elif args.device != "cpu":
            raise InputError(f"--device {args.device}: a {args.kind} model trains on the CPU only")
    result = train(args.kind, data=args.data, splits=args.splits, out=args.out, seed=args.seed,
                   params=params, quiet=args.quiet, overwrite=args.overwrite, members=args.members,
                   resume=args.resume, transfer=args.transfer, gold_weight=args.gold_weight)
    sizes = ", ".join(f"{split} {n}" for split, n in result.split_sizes.items())
    print(f"trained {args.kind} in {result.seconds:.0f} s on {sizes} records; saved to {result.folder}")
    for scores in result.scores.values():
        print(summary_table(scores))
    return 0


def run_validate(args) -> int:
    from .data.validation import validate_files

    report = validate_files(args.files, near_duplicate_threshold=args.similarity)
    for problem in report.problems:
        print(problem)
    if not report.ok:
        print(f"{len(report.problems)} problem(s) in {report.records} records", file=sys.stderr)
        return EXIT_PROBLEMS
    print(report.summary())
    return 0


def run_report(args) -> int:
    from .io.outputs import check_distinct_paths
    from .jobs.report import read_documents, write_report

    check_distinct_paths([args.input], [args.output])
    documents = read_documents(args.input, args.text_field)
    if not documents:
        raise InputError(f"{args.input}: no documents to report on")
    write_report(documents, args.output, _model_name(args))
    _note(args, f"wrote a report of {len(documents)} document{'s' * (len(documents) != 1)} to {args.output}")
    return 0


def run_info(args) -> int:
    import platform
    from importlib import metadata

    from .artifacts import load_config, shipped_models
    from .labels import get_scheme
    from .registry import DEFAULT_MODEL

    if args.model:
        return _model_info(args.model)
    scheme = get_scheme()
    print(f"stancekit {__version__} (Python {platform.python_version()})")
    print(f"label scheme {scheme.version}")
    print(f"  stance: {', '.join(scheme.stances)}")
    print(f"  claim_type: {', '.join(scheme.claim_types)}")
    print("shipped models:")
    for name, folder in shipped_models().items():
        config = load_config(folder)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
        test = config.get("held_out", {}).get("test", {})
        scores = ", ".join(f"{task} macro-F1 {v['macro_f1']:.3f}" for task, v in test.items())
        default = " (default)" if name == DEFAULT_MODEL else ""
        print(f"  {name}{default}: {config['kind']} {config['version']}, scheme {config['scheme_version']}, "
              f"{size:.1f} MB; test: {scores or 'not recorded'}")
        print(f"    {folder}")
    for package in ("scikit-learn", "torch", "transformers", "datasets", "tokenizers", "numpy"):
        try:
            print(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            print(f"{package} not installed")
    return 0


def _model_info(name_or_path: str) -> int:
    """Print one model's identity, training data hash, held-out scores, members and files."""
    from .artifacts import model_digest, read_config
    from .registry import resolve

    folder = resolve(name_or_path)
    config = read_config(folder)
    training = config.get("training", {})
    print(f"{config['name']} {config['version']} ({config['kind']}), label scheme {config['scheme_version']}")
    print(f"  folder: {folder}")
    print(f"  manifest sha256: {model_digest(folder)}")
    print(f"  training data sha256: {training.get('data_sha256', 'not recorded')}")
    if training.get("data"):
        print(f"  training data: {', '.join(training['data'])}")
    for split, tasks in config.get("held_out", {}).items():
        print(f"  {split}: " + ", ".join(f"{task} macro-F1 {m['macro_f1']:.3f} accuracy {m['accuracy']:.3f}"
                                         for task, m in tasks.items()))
    for member, reference in config.get("fitted", {}).get("members", {}).items():
        print(f"  member {member}: {reference.get('name') or reference.get('path')} "
              f"(manifest sha256 {reference['sha256']})")
    print("  files:")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        print(f"    {path.relative_to(folder).as_posix()} ({path.stat().st_size:,} bytes)")
    return 0


# profile ------------------------------------------------------------------------------------------

def add_profile_parser(commands, common: argparse.ArgumentParser, device: argparse.ArgumentParser) -> None:
    """The ``profile`` command's options."""
    from .io.readers import READERS
    from .profiles.dates import EVERY
    from .profiles.settings import ADJUSTMENTS, MIN_DOCUMENTS, RESAMPLES

    profile = commands.add_parser(
        "profile", parents=[common, device], help="label shares per outlet and period, with intervals",
        description="Profile scored output (JSON Lines, CSV, Parquet files or the Parquet folder of --engine dask; "
        "or raw input with --model): for each group of --by values (and period of --time), the documents, "
        "sentences, the share of every stance and claim type and of the sentences flagged for review or out of "
        "scope, each with a 95 % interval from a bootstrap over documents, and mean confidences. Prints a table; "
        "-o, --json, --plot and --html write the profile, and --changes lists what moved between periods.")
    profile.add_argument("inputs", nargs="+", metavar="INPUT")
    profile.add_argument("--by", action="append", required=True, metavar="FIELD",
                         help="group by this field (repeat for several); records without it form the group (missing)")
    profile.add_argument("--time", metavar="FIELD", help="also group by the period of this date field")
    profile.add_argument("--every", choices=EVERY, help="with --time: the period (default: month)")
    profile.add_argument("--document", metavar="FIELD",
                         help="the field naming each record's document (default: input_file and document, as "
                         "classify --split-sentences writes them; else each record is its own document)")
    profile.add_argument("--resamples", type=_positive_int, default=RESAMPLES,
                         help=f"bootstrap resamples per group, at least 100 (default: {RESAMPLES})")
    profile.add_argument("--seed", type=int, default=13, help="seed of the bootstrap (default: 13)")
    profile.add_argument("--min-documents", type=_positive_int, default=MIN_DOCUMENTS,
                         help=f"groups with fewer documents are marked unreliable (default: {MIN_DOCUMENTS})")
    profile.add_argument("--changes", action="store_true",
                         help="list the shares that moved between consecutive periods beyond what the bootstrap allows")
    profile.add_argument("--min-change", type=float, default=0.0, metavar="SHARE",
                         help="with --changes: list only moves at least this large, e.g. 0.1 (default: 0)")
    profile.add_argument("--adjust", choices=ADJUSTMENTS, default="fdr",
                         help="with --changes: fdr (default) controls the false discovery rate over all moves; "
                         "none tests each move alone")
    profile.add_argument("-o", "--output", help="write the profile (one row per group and label) as .csv or .parquet")
    profile.add_argument("--json", metavar="FILE", help="write the profile, changes and method as JSON ('-': stdout)")
    profile.add_argument("--plot", metavar="FILE.png", help="draw stance shares over time and a claim-type heat map")
    profile.add_argument("--html", metavar="FILE.html", help="write one offline page: charts, table, examples")
    profile.add_argument("-m", "--model", help="score raw input with this model first (name or folder)")
    profile.add_argument("--split-sentences", action="store_true",
                         help="with --model: treat each text as a document and score each sentence")
    profile.add_argument("--batch-size", type=_positive_int, default=256, help="with --model: texts per batch")
    profile.add_argument("--input-format", choices=list(READERS), help="input format (default: by extension)")
    profile.add_argument("--text-field", default="text", help="field holding the text (default: text)")
    profile.add_argument("--prefix", default="", help="the prefix of the prediction fields (classify --prefix)")
    profile.add_argument("--skip-errors", action="store_true",
                         help="leave out records that cannot be read (counted and listed on stderr)")


def run_profile(args) -> int:
    from .profiles.command import run_profile_command

    summary = run_profile_command(args)
    _report_skipped(args, summary.skipped)
    _note(args, summary.line())
    return 0


# the annotation loop: export, import, suggest, audit ---------------------------------------------

def add_export_parser(commands, common) -> None:
    export = commands.add_parser("export", parents=[common], help="write texts with the model's labels for annotating",
                                 description="Label every text (or sentence) of the INPUT files with a model and "
                                 "write them for people to correct: Label Studio tasks with the labels as "
                                 "predictions (--to label-studio, JSON), or an annotation sheet (--to csv). "
                                 "With --label-config and no INPUT: print the Label Studio labeling interface.")
    export.add_argument("inputs", nargs="*", metavar="INPUT", help="files as 'classify' reads them")
    export.add_argument("--to", choices=("label-studio", "csv"), help="what to write")
    export.add_argument("-o", "--output", help="the file to write (--label-config: default stdout)")
    export.add_argument("--label-config", action="store_true",
                        help="write the Label Studio labeling interface (XML) of the label scheme")
    _add_unit_options(export)


def _add_unit_options(parser) -> None:
    """The options of commands that read texts to annotate (export, suggest)."""
    from .registry import DEFAULT_MODEL

    parser.add_argument("-m", "--model", default=None, help=f"model name or folder (default: {DEFAULT_MODEL})")
    parser.add_argument("--split-sentences", action="store_true",
                        help="treat each text as a document: one unit per sentence, with its offsets")
    parser.add_argument("--text-field", default="text", help="field or column holding the text (default: text)")
    parser.add_argument("--input-format", choices=("txt", "jsonl", "csv", "parquet"),
                        help="input format (default: by extension)")


def run_export(args) -> int:
    from .annotation import label_studio
    from .annotation.units import read_units
    from .files import atomic_write_text
    from .io.outputs import check_distinct_paths

    if args.label_config:
        if args.inputs or args.to:
            raise InputError("--label-config takes no INPUT and no --to")
        config = label_studio.label_config()
        if args.output:
            atomic_write_text(args.output, config)
        else:
            sys.stdout.write(config)
        return 0
    if not args.inputs or not args.to or not args.output:
        raise InputError("export needs INPUT files, --to label-studio or --to csv, and -o OUTPUT")
    check_distinct_paths(args.inputs, [args.output])
    units = read_units(args.inputs, _model_name(args), args.text_field, args.split_sentences,
                       args.input_format, args.quiet)
    if args.to == "csv":
        from .annotation.spreadsheet import write_sheet

        write_sheet(units, args.output)
    else:
        label_studio.write_tasks(units, args.output)
    _note(args, f"wrote {len(units)} unit{'s' * (len(units) != 1)} to annotate to {args.output}")
    return 0


def add_import_parser(commands, common) -> None:
    imported = commands.add_parser("import", parents=[common], help="turn annotations into labeled records",
                                   description="Read annotations (a Label Studio JSON export, or filled "
                                   "annotation sheets from 'export --to csv') into JSON Lines records that "
                                   "follow annotations/schema.json. Skipped annotations and units nobody "
                                   "annotated are counted on stderr and left out. Units annotated by several "
                                   "people give one record per annotation and an agreement table (Cohen's "
                                   "kappa per label) on stderr.")
    imported.add_argument("inputs", nargs="+", metavar="EXPORT")
    imported.add_argument("--from", dest="source", choices=("label-studio", "csv"), required=True,
                          help="what the EXPORT files are")
    imported.add_argument("-o", "--output", required=True, help="the JSON Lines file to write")
    imported.add_argument("--agreement", metavar="FILE", help="also write the agreement table as JSON here")
    imported.add_argument("--annotator", help="csv: the annotator of rows whose annotator cell is empty")


def run_import(args) -> int:
    from .annotation.agreement import agreement_table, pairwise_agreement, write_agreement
    from .annotation.imports import ImportResult, write_records
    from .io.outputs import check_distinct_paths

    check_distinct_paths(args.inputs, [args.output, args.agreement])
    if args.source == "csv":
        from .annotation.spreadsheet import read_sheet

        parts = [read_sheet(path, args.annotator) for path in args.inputs]
    else:
        from .annotation.label_studio import read_export

        if args.annotator:
            raise InputError("--annotator is for --from csv: Label Studio exports name their annotators")
        parts = [read_export(path) for path in args.inputs]
    result = ImportResult.combined(parts)
    write_records(result.records(), args.output)
    pairs = pairwise_agreement(result.annotations)
    if pairs:
        print(agreement_table(pairs), file=sys.stderr)
    if args.agreement:
        write_agreement(pairs, args.agreement)
    print(f"stancekit: {result.summary(args.output)}", file=sys.stderr)
    return 0


def add_suggest_parser(commands, common) -> None:
    suggest = commands.add_parser(
        "suggest", parents=[common], help="choose which unlabeled texts to annotate next",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Choose N texts of UNLABELED whose labels should teach the model most, and write them "
        "(input fields kept, a 'suggestion' field added) in the order chosen.\n\nStrategy:\n"
        "  1. uncertainty: 1 - the mean, over stance and claim type, of the margin between the\n"
        "     model's two most probable labels;\n"
        "  2. a floor per predicted class: for each label of each task, the most uncertain texts\n"
        "     predicted as that label first, up to --floor per label, so rare claim types are asked for;\n"
        "  3. the rest by uncertainty.\n"
        "Both passes skip texts whose character n-gram TF-IDF cosine similarity to a text already\n"
        "chosen is at least --max-similarity, so a batch holds no rewordings of one sentence.")
    suggest.add_argument("inputs", nargs="+", metavar="UNLABELED", help="files as 'classify' reads them")
    _add_unit_options(suggest)
    suggest.add_argument("-n", type=_positive_int, default=200, help="how many texts to choose (default: 200)")
    suggest.add_argument("-o", "--output", required=True, help="the JSON Lines file to write")
    suggest.add_argument("--floor", type=int, help="texts per predicted label asked for first (default: "
                         "N / (4 x the number of claim types), rounded up)")
    suggest.add_argument("--max-similarity", type=_similarity_bound, default=None,
                         help="skip texts at least this similar to one chosen, 0-1 (default: 0.5)")


def _similarity_bound(value: str) -> float:
    threshold = _similarity(value)
    if threshold is None:
        raise argparse.ArgumentTypeError("expected a number between 0 and 1")
    return threshold


def run_suggest(args) -> int:
    from .annotation.suggest import DEFAULT_MAX_SIMILARITY, write_suggestions
    from .annotation.units import read_units
    from .io.outputs import check_distinct_paths

    check_distinct_paths(args.inputs, [args.output])
    units = read_units(args.inputs, _model_name(args), args.text_field, args.split_sentences,
                       args.input_format, args.quiet)
    picks = write_suggestions(units, args.n, args.output, floor=args.floor,
                              max_similarity=args.max_similarity or DEFAULT_MAX_SIMILARITY)
    reasons = ", ".join(f"{reason} {count}" for reason, count in picks.items())
    _note(args, f"chose {sum(picks.values())} of {len(units)} texts ({reasons}); wrote them to {args.output}")
    return 0


def add_audit_parser(commands, common) -> None:
    from .registry import MODEL_KINDS

    audit = commands.add_parser("audit", parents=[common], help="rank labels that look wrong",
                                description="Rank the labels of LABELED (JSON Lines following "
                                "annotations/schema.json) that disagree with cross-validated probabilities: "
                                "each document is scored by a model trained on the other folds, and cleanlab "
                                "(confident learning) flags and ranks the labels, least probable first, each "
                                "with the suggested label and its probability.")
    audit.add_argument("data", nargs="+", metavar="LABELED")
    audit.add_argument("--model-kind", choices=list(MODEL_KINDS), default="tfidf",
                       help="the kind of model trained in each fold (default: tfidf, seconds per fold)")
    audit.add_argument("--folds", type=_positive_int, default=5, help="cross-validation folds (default: 5)")
    audit.add_argument("--seed", type=int, default=13, help="random seed of the models (default: 13)")
    audit.add_argument("--top", type=_positive_int,
                       help="show and write only the N most suspect labels (default: 20 in the table, all in files)")
    audit.add_argument("-o", "--output", help="write one JSON record per suspect label here, most suspect first")
    audit.add_argument("--html", help="write the suspects as an HTML page here")


def run_audit(args) -> int:
    from .annotation.audit import audit, suspects_table, write_html, write_suspects
    from .data import load_records
    from .io.outputs import check_distinct_paths

    check_distinct_paths(args.data, [args.output, args.html])
    records = load_records(args.data)
    result = audit(records, args.model_kind, args.folds, args.seed, quiet=args.quiet)
    chosen = result.suspects[:args.top] if args.top else result.suspects
    print(suspects_table(chosen[:args.top or 20]))
    if args.output:
        write_suspects(chosen, args.output)
    if args.html:
        write_html(result, chosen, args.html, ", ".join(args.data))
    print(f"stancekit: {result.summary()}", file=sys.stderr)
    return 0
