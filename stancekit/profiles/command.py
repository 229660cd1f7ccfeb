"""``stancekit profile``: read (or score) the input, compute the profile, and write every output asked for."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import IO

from .. import __version__
from ..errors import InputError
from ..files import atomic_write_text
from ..io.lines import STDIN
from ..io.outputs import check_distinct_paths
from ..io.readers import BadRecord
from .api import compute_profile
from .inputs import Scoring, read_records
from .outputs import changes_table, table_format, terminal_table, to_json, write_table
from .records import Fields
from .settings import Settings


@dataclass
class ProfileSummary:
    """What a profile run read and wrote, for its closing line."""

    records: int
    groups: int
    written: list[str]
    skipped: list[BadRecord] = field(default_factory=list)

    def line(self) -> str:
        wrote = f"; wrote {', '.join(self.written)}" if self.written else ""
        return (f"profiled {self.records} record{'s' * (self.records != 1)} in {self.groups} "
                f"group{'s' * (self.groups != 1)}{wrote}")


def run_profile_command(args, stdout: IO[str] = sys.stdout) -> ProfileSummary:
    """Run ``stancekit profile`` with parsed arguments ``args``; return what it did."""
    fields = _check_arguments(args)
    settings = Settings(args.resamples, args.seed, args.min_documents, args.min_change, args.adjust)
    scoring = (Scoring(args.model, args.split_sentences, args.batch_size, args.device or "cpu")
               if args.model else None)
    read = read_records(args.inputs, fields, text_field=args.text_field, explicit_format=args.input_format,
                        skip_errors=args.skip_errors, scoring=scoring, quiet=args.quiet)
    if read.frame.empty:
        raise InputError(f"no records to profile in {', '.join(args.inputs)}")
    result = compute_profile(read.frame, fields, settings, changes=args.changes, skip_errors=args.skip_errors,
                             quiet=args.quiet)
    result.metadata.update(inputs=list(args.inputs), model=read.model, stancekit=__version__)
    groups = result.table[fields.keys].drop_duplicates() if len(result.table) else result.table
    records = len(read.frame) - len(result.skipped)
    if not records:
        raise InputError(f"no readable records to profile in {', '.join(args.inputs)}")
    written = []
    if args.output:
        write_table(result.table, args.output, result.metadata)
        written.append(args.output)
    if args.json:
        document = to_json(result.table, result.changes, result.metadata)
        if args.json == STDIN:
            stdout.write(document + "\n")
        else:
            atomic_write_text(args.json, document + "\n")
            written.append(args.json)
    if args.plot or args.html:
        written += _pictures(args, result, fields, read.frame, records)
    if args.json != STDIN:
        stdout.write(terminal_table(result.table, fields.keys, result.metadata))
        if result.changes is not None:
            stdout.write("\n" + changes_table(result.changes, list(fields.by), result.metadata["changes"]))
    skipped = read.skipped + [BadRecord(error, "") for error in result.skipped]
    return ProfileSummary(records, len(groups), written, skipped)


def _check_arguments(args) -> Fields:
    """Refuse options that do not go together and output paths that clash; return the fields to read."""
    if args.every and not args.time:
        raise InputError("--every needs --time FIELD: the date field to group by")
    if args.changes and not args.time:
        raise InputError("--changes compares periods: it needs --time FIELD")
    if not args.model:
        used = [name for name, value in (("--split-sentences", args.split_sentences), ("--device", args.device))
                if value]
        if used:
            raise InputError(f"{used[0]} needs --model: it applies to scoring raw input")
    if args.output:
        table_format(args.output)
    if args.plot and not args.plot.lower().endswith(".png"):
        raise InputError("--plot writes a PNG picture: give a .png file", path=args.plot)
    check_distinct_paths(args.inputs, [args.output, args.json, args.plot, args.html])
    try:
        return Fields(by=tuple(args.by), time=args.time, every=args.every or "month", document=args.document,
                      prefix=args.prefix)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _pictures(args, result, fields: Fields, frame, records: int) -> list[str]:
    """Draw the figure once; write it as a PNG and/or inline it in the HTML page."""
    from .plots import profile_figure, save_png, svg_markup

    figure = profile_figure(result.table, list(fields.by), result.metadata["min_documents"])
    written = []
    if args.plot:
        save_png(figure, args.plot)
        written.append(args.plot)
    if args.html:
        from .examples import pick_examples
        from .page import render_page

        examples = pick_examples(frame, result.marked, fields, args.text_field)
        summary = f"{records} sentences from {', '.join(args.inputs)}; stancekit {__version__}"
        atomic_write_text(args.html, render_page(result.table, result.changes, result.metadata, fields, examples,
                                                 svg_markup(figure, "profile"), summary))
        written.append(args.html)
    return written
