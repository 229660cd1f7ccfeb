"""The profile as one HTML page: the charts as inline SVG, what changed, the table, and example sentences.

The page follows the rules of ``stancekit report``: one file that works offline, no
network requests, no external scripts, fonts or images. It has no script at all; its
Content-Security-Policy forbids everything but inline styles. Every share in the table
links to up to three example sentences of that group and label, shown in place of the
hint below the table when chosen (CSS ``:target``). Groups with fewer documents than the
floor are marked in words, so the page reads in print and without colour.
"""

from __future__ import annotations

import html
from string import Template
from typing import TYPE_CHECKING

from .. import __version__
from .examples import Cell, Example
from .outputs import display_key, header_lines, percent, wide_rows
from .records import Fields
from .settings import percent_text, LEVEL

if TYPE_CHECKING:
    import pandas

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def render_page(table: "pandas.DataFrame", changes: "pandas.DataFrame | None", metadata: dict, fields: Fields,
                examples: dict[Cell, list[Example]], chart: str, summary: str) -> str:
    """The whole page as one HTML string; ``chart`` is the figure as inline SVG markup."""
    groups = wide_rows(table, fields.keys)
    index = {group["key"]: number for number, group in enumerate(groups)}
    columns = list(groups[0]["labels"]) if groups else []
    title = f"Profile by {', '.join(fields.by)}" + (f" and {fields.every}" if fields.time else "")
    return _PAGE.substitute(
        csp=CONTENT_SECURITY_POLICY, style=_STYLE, title=html.escape(title), summary=html.escape(summary),
        method="".join(f"<p>{html.escape(line)}</p>" for line in header_lines(metadata)), chart=chart,
        changes=_changes_section(changes, metadata, fields, index) if changes is not None else "",
        table=_table(groups, columns, fields, metadata["min_documents"]),
        examples="".join(_examples(number, group, examples) for number, group in enumerate(groups)),
        floor=metadata["min_documents"])


def _cell_id(number: int, task: str, label: str) -> str:
    return f"ex-{number}-{task}-{label.replace(' ', '-')}"


def _table(groups: list[dict], columns: list[tuple[str, str]], fields: Fields, floor: int) -> str:
    tasks = list(dict.fromkeys(task for task, _ in columns))
    spans = "".join(f'<th colspan="{sum(1 for t, _ in columns if t == task)}" scope="colgroup">'
                    f'{html.escape(task.replace("_", " "))}</th>' for task in tasks)
    keys = "".join(f'<th rowspan="2" scope="col">{html.escape(name)}</th>' for name in fields.keys)
    labels = "".join(f'<th scope="col">{html.escape(label.replace("_", " "))}</th>' for _, label in columns)
    head = (f'<thead><tr>{keys}<th rowspan="2" scope="col">documents</th><th rowspan="2" scope="col">sentences</th>'
            f'{spans}</tr><tr>{labels}</tr></thead>')
    rows = []
    for number, group in enumerate(groups):
        few = (f' <abbr class="few" title="fewer than {floor} documents: the intervals are unreliable">few</abbr>'
               if group["few_documents"] else "")
        cells = "".join(_share_cell(number, group, task, label) for task, label in columns)
        keys_html = "".join(f"<th scope=\"row\">{html.escape(str(value))}</th>" if i == 0
                            else f"<td>{html.escape(str(value))}</td>" for i, value in enumerate(group["key"]))
        marked = ' class="few-row"' if few else ""
        rows.append(f'<tr id="g-{number}"{marked}>{keys_html}'
                    f'<td class="n">{group["documents"]}{few}</td><td class="n">{group["sentences"]}</td>{cells}</tr>')
    return f'<table class="profile">{head}<tbody>{"".join(rows)}</tbody></table>'


def _share_cell(number: int, group: dict, task: str, label: str) -> str:
    row = group["labels"][task, label]
    if not row["count"]:
        return '<td class="n zero">0</td>'
    interval = f"{percent(row['low'])}–{percent(row['high'])}"
    title = (f"{label}: {row['count']} of {group['sentences']} sentences; {percent_text(LEVEL)} interval "
             f"{interval} %; click for examples")
    return (f'<td class="n"><a href="#{_cell_id(number, task, label)}" title="{html.escape(title)}">'
            f'{percent(row["share"])}</a><span class="ci">{interval}</span></td>')


def _examples(number: int, group: dict, examples: dict[Cell, list[Example]]) -> str:
    sections = []
    for (task, label), row in group["labels"].items():
        chosen = examples.get((group["key"], task, label))
        if not chosen:
            continue
        items = "".join(f'<li>{html.escape(example.text)} <span class="src">{html.escape(example.where)} · '
                        f'{"stance " if task == "flag" else ""}confidence {example.confidence:.2f}</span></li>'
                        for example in chosen)
        sections.append(
            f'<div class="example" id="{_cell_id(number, task, label)}"><h3>{html.escape(display_key(group["key"]))}'
            f' — {html.escape(task.replace("_", " "))} {html.escape(label)}: {row["count"]} of {group["sentences"]} '
            f'sentences ({percent(row["share"])} %, interval {percent(row["low"])}–{percent(row["high"])} %)</h3>'
            f'<ol>{items}</ol><p><a href="#g-{number}">back to the table</a></p></div>')
    return "".join(sections)


def _changes_section(changes: "pandas.DataFrame", metadata: dict, fields: Fields, index: dict) -> str:
    description = metadata["changes"]
    listed = changes[changes["changed"]].sort_values("change", key=abs, ascending=False)
    rows = []
    for row in listed.to_dict(orient="records"):
        series = tuple(row[name] for name in fields.by)
        periods = [_linked_share(index[(*series, row[f"period_{when}"])], row, when) for when in ("before", "after")]
        rows.append(
            f"<tr><th scope=\"row\">{html.escape(display_key(series))}</th><td>{html.escape(row['task'])} "
            f"{html.escape(row['label'])}</td><td>{periods[0]}</td><td>{periods[1]}</td>"
            f"<td class=\"n\">{row['change'] * 100:+.0f} points [{row['low'] * 100:+.0f}, {row['high'] * 100:+.0f}]</td>"
            f"<td class=\"n\">{row['documents_before']} → {row['documents_after']}</td></tr>")
    body = (f'<table class="changes"><thead><tr><th scope="col">{html.escape(" / ".join(fields.by))}</th>'
            '<th scope="col">label</th><th scope="col">before</th><th scope="col">after</th>'
            f'<th scope="col">change [{percent_text(LEVEL)} interval]</th><th scope="col">documents</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>' if rows else "<p>No move counts as a change.</p>")
    return (f'<section id="changes"><h2>What changed ({description["changed"]} of {description["tested"]} tested '
            f'moves)</h2><p class="note">{html.escape(description["method"])}. Adjustment for many moves: '
            f'{html.escape(description["adjustment"])}; {description["moves"] - description["tested"]} moves not '
            f'tested.</p>{body}</section>')


def _linked_share(number: int, move: dict, when: str) -> str:
    """A period and its share in a listed move, linked to the examples of that cell when it has any."""
    text = f"{html.escape(move[f'period_{when}'])}: {percent(move[f'share_{when}'])} %"
    if not move[f"share_{when}"]:
        return text
    return f'<a href="#{_cell_id(number, move["task"], move["label"])}">{text}</a>'


_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="$csp">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stancekit profile</title>
<style>$style</style>
</head>
<body>
<header>
<h1>$title</h1>
<p class="meta">$summary</p>
<div class="note">$method</div>
</header>
<section id="charts">
<h2>Stance over time and claim types</h2>
<figure>$chart<figcaption>Top: each stance's share of the sentences per period, the band its 95 % interval;
hollow markers: fewer than $floor documents. Bottom: each claim type's share of all the sentences of a series.
The numbers are in the table below.</figcaption></figure>
</section>
$changes
<section id="profile">
<h2>Shares per group</h2>
<p class="note">Each share is the percentage of the group's sentences with that label, its 95 % interval below it.
Choose a share to see example sentences. Rows marked <abbr class="few">few</abbr> have fewer than $floor documents.</p>
<div class="scroll">$table</div>
</section>
<section id="examples">
<h2>Example sentences</h2>
<p class="hint">Choose a share in the table to see up to three of its sentences here.</p>
$examples
</section>
</body>
</html>
""")

_STYLE = """
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, sans-serif; color: #1a1a1a; margin: 0 auto; padding: 1rem 1.5rem; max-width: 1500px; }
h1 { font-size: 1.5rem; margin: .2rem 0; } h2 { font-size: 1.2rem; border-bottom: 1px solid #999; margin-top: 1.6rem; }
h3 { font-size: 1rem; margin: .2rem 0; } .meta, .note { font-size: 13px; color: #333; } .note p { margin: .2rem 0; }
figure { margin: .5rem 0; } figure svg { max-width: 100%; height: auto; } figcaption { font-size: 13px; color: #333; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; vertical-align: top; }
thead th { background: #f2f2f2; }
tbody th { text-align: left; font-weight: normal; white-space: nowrap; }
td.n { text-align: right; white-space: nowrap; } td.zero { color: #777; }
.ci { display: block; font-size: 11px; color: #555; }
tr.few-row td, tr.few-row th { background: repeating-linear-gradient(135deg, #fff, #fff 4px, #f3f3f3 4px, #f3f3f3 8px); }
abbr.few { font-size: 10px; font-weight: bold; text-transform: uppercase; border: 1px dashed #000; padding: 0 2px;
  text-decoration: none; }
a { color: #0b4f8a; }
.example { display: none; border: 2px solid #111; padding: .4rem .8rem; margin: .5rem 0; background: #fafafa; }
.example:target { display: block; }
#examples:has(.example:target) .hint { display: none; }
.src { font-size: 12px; color: #555; white-space: nowrap; }
@media print { .example { display: block; border-width: 1px; } .hint { display: none; }
  a { color: inherit; text-decoration: none; } }
"""
