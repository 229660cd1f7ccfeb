"""The HTML document report: one self-contained page, readable offline, printed and without colour.

``render`` turns documents and their sentence predictions (with evidence) into a single
HTML page (``stancekit.jobs.report`` scores the documents and writes it): no network
requests, no external scripts, fonts or images (a Content-Security-Policy meta tag
forbids them), CSS and JavaScript inline. Each
sentence carries its stance as a tint, a text tag (REG, OPP, NEU) and an underline style,
so the page reads without colour; claim-type chips show the confidence; hovering, focusing
or clicking a sentence highlights its evidence (outlined solid toward the label, dashed
against it) and shows the details in a side panel. Each document opens with its stance
and claim-type shares as an inline SVG chart and ends with the sentences to review
(low stance confidence, or out of scope). The page fits screens from 360 px wide: the
side panel moves below the text and the charts shrink to the width.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from string import Template

from .. import __version__
from ..labels import TASKS
from ..prediction import REVIEW_BELOW, DocumentPrediction, Prediction

STANCE_TAGS = {"regime": "REG", "opposition": "OPP", "neutral": "NEU"}
"""The text marker of each stance (unknown stances show their first three letters)."""
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
_EVIDENCE_CLASSES = {("stance", True): "sp", ("stance", False): "sn",
                     ("claim_type", True): "cp", ("claim_type", False): "cn"}


@dataclass(frozen=True)
class Document:
    """One document of a report: a title and its text."""

    title: str
    text: str


def render(documents: list[Document], predicted: list[DocumentPrediction], model: str) -> str:
    """The report page of labeled documents, as one HTML string."""
    sections, data = [], []
    for number, (document, prediction) in enumerate(zip(documents, predicted)):
        sections.append(_document_section(number, document, prediction))
        data.append([_sentence_data(sentence) for sentence in prediction.sentences])
    sentences = sum(len(p.sentences) for p in predicted)
    summary = (f"{len(documents)} document{'s' * (len(documents) != 1)}, {sentences} "
               f"sentence{'s' * (sentences != 1)}; model {model}; stancekit {__version__}")
    return _PAGE.substitute(
        csp=CONTENT_SECURITY_POLICY, style=_STYLE, script=_SCRIPT, summary=html.escape(summary),
        review=f"{REVIEW_BELOW:.2f}", body="\n".join(sections) or "<p>No text in the input.</p>",
        data=json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


def _sentence_data(sentence: Prediction) -> dict:
    """What the page's script shows for one sentence."""
    return {"stance": sentence.stance, "stance_confidence": round(sentence.stance_confidence, 3),
            "stance_scores": {k: round(v, 3) for k, v in sentence.stance_scores.items()},
            "claim_type": sentence.claim_type, "claim_confidence": round(sentence.claim_confidence, 3),
            "claim_scores": {k: round(v, 3) for k, v in sentence.claim_scores.items()},
            "language": sentence.language, "flag": sentence.flag, "evidence": sentence.evidence}


def _document_section(number: int, document: Document, prediction: DocumentPrediction) -> str:
    if not prediction.sentences:
        return (f'<section class="doc" id="doc-{number}"><h2>{html.escape(document.title)}</h2>'
                "<p>No sentences: the document holds no text.</p></section>")
    paragraphs, review = [], []
    last = 0
    for index, sentence in enumerate(prediction.sentences):
        paragraphs.append(_gap(document.text[last:sentence.start]))
        paragraphs.append(_sentence_html(number, index, sentence))
        last = sentence.end
        if sentence.flag:
            review.append(f'<li><a href="#s-{number}-{index}">{html.escape(_shorten(sentence.text))}</a> '
                          f'<span class="why">{_flag_reason(sentence)}</span></li>')
    paragraphs.append(_gap(document.text[last:]))
    review_html = (f"<ol>{''.join(review)}</ol>" if review
                   else "<p>None: every sentence has a stance confidence of at least "
                        f"{REVIEW_BELOW:.2f} and is in English.</p>")
    return (f'<section class="doc" id="doc-{number}"><h2>{html.escape(document.title)}</h2>'
            f'<div class="charts">{_stance_chart(prediction.stance_shares)}'
            f'{_claim_chart(prediction.claim_shares)}</div>'
            f'<div class="text"><p>{"".join(paragraphs)}</p></div>'
            f'<div class="review"><h3>For review ({len(review)})</h3>{review_html}</div></section>')


def _gap(text: str) -> str:
    """Text between sentences; blank lines start a new paragraph."""
    escaped = html.escape(text)
    return "</p><p>".join(escaped.split("\n\n")).replace("\n", "<br>") if "\n" in text else escaped


def _sentence_html(number: int, index: int, sentence: Prediction) -> str:
    tag = STANCE_TAGS.get(sentence.stance, sentence.stance[:3].upper())
    flag = f'<b class="flag">{html.escape(sentence.flag)}</b>' if sentence.flag else ""
    chip = (f'<span class="chip{" none" if sentence.claim_type == "none" else ""}">'
            f'{html.escape(sentence.claim_type.replace("_", " "))} {sentence.claim_confidence:.2f}</span>')
    return (f'<span class="s st-{html.escape(sentence.stance)}" id="s-{number}-{index}" data-d="{number}" '
            f'data-s="{index}" tabindex="0"><b class="tag" title="stance {html.escape(sentence.stance)} '
            f'{sentence.stance_confidence:.2f}">{tag} {sentence.stance_confidence:.2f}</b>{flag}'
            f'{_marked_text(sentence)}{chip}</span>')


def _marked_text(sentence: Prediction) -> str:
    """The sentence's text cut at every evidence boundary; each piece names the evidence it is in."""
    marks = []
    for task in TASKS:
        for item in (sentence.evidence or {}).get(task, []):
            marks.append((item["start"], item["end"], _EVIDENCE_CLASSES[task, item["weight"] > 0]))
    cuts = sorted({0, len(sentence.text), *(m[0] for m in marks), *(m[1] for m in marks)})
    pieces = []
    for start, end in zip(cuts, cuts[1:]):
        classes = " ".join(sorted({name for s, e, name in marks if s <= start and end <= e}))
        text = html.escape(sentence.text[start:end])
        pieces.append(f'<span class="ev {classes}">{text}</span>' if classes else text)
    return "".join(pieces)


def _flag_reason(sentence: Prediction) -> str:
    if sentence.flag == "out of scope":
        return f"out of scope: language {html.escape(str(sentence.language))}, the models read English"
    return f"review: stance {html.escape(sentence.stance)} at confidence {sentence.stance_confidence:.2f}"


def _shorten(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _stance_chart(shares: dict[str, float]) -> str:
    """A stacked bar of the stance shares, each part patterned and labelled (readable without colour)."""
    width, x, parts, legend = 360, 0.0, [], []
    for stance, share in shares.items():
        part = share * width
        tag = STANCE_TAGS.get(stance, stance[:3].upper())
        if part > 0:
            parts.append(f'<rect x="{x:.1f}" y="0" width="{part:.1f}" height="22" class="bar-{html.escape(stance)}" '
                         f'fill="url(#pat-{html.escape(stance)})"><title>{html.escape(stance)} '
                         f'{share:.0%}</title></rect>')
            if part >= 34:
                parts.append(f'<text x="{x + part / 2:.1f}" y="15" text-anchor="middle">{tag}</text>')
        legend.append(f"{tag} {html.escape(stance)} {share:.0%}")
        x += part
    return (f'<figure><figcaption>Stance of the sentences: {"; ".join(legend)}</figcaption>'
            f'<svg class="chart" role="img" width="{width}" height="24" viewBox="0 0 {width} 24">'
            f'<title>Stance shares: {"; ".join(legend)}</title>{_PATTERNS}{"".join(parts)}'
            f'<rect x="0" y="0" width="{width}" height="22" fill="none" stroke="#333"/></svg></figure>')


def _claim_chart(shares: dict[str, float]) -> str:
    """One labelled bar per claim type present, largest first."""
    present = sorted(((share, claim) for claim, share in shares.items() if share > 0), reverse=True)
    rows = []
    for row, (share, claim) in enumerate(present):
        y = row * 18
        rows.append(f'<text x="0" y="{y + 12}">{html.escape(claim.replace("_", " "))}</text>'
                    f'<rect x="150" y="{y + 2}" width="{max(share * 180, 1):.1f}" height="12" class="claim-bar"/>'
                    f'<text x="{156 + share * 180:.1f}" y="{y + 12}">{share:.0%}</text>')
    height = max(len(present) * 18, 18)
    described = "; ".join(f"{claim} {share:.0%}" for share, claim in present) or "none"
    return (f'<figure><figcaption>Claim types</figcaption><svg class="chart" role="img" width="380" '
            f'height="{height}" viewBox="0 0 380 {height}"><title>Claim-type shares: {html.escape(described)}'
            f'</title>{"".join(rows)}</svg></figure>')


_PATTERNS = (
    '<defs>'
    '<pattern id="pat-regime" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect width="6" height="6" fill="#f3c3a6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#a34500" '
    'stroke-width="2"/></pattern>'
    '<pattern id="pat-opposition" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#b3d4ec"/><circle cx="3" cy="3" r="1.4" fill="#004f7c"/></pattern>'
    '<pattern id="pat-neutral" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#e4e4e4"/></pattern>'
    '</defs>')

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="$csp">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stancekit report</title>
<style>$style</style>
</head>
<body class="show-stance">
<header>
<h1>Stance and claim report</h1>
<p class="meta">$summary</p>
<p class="legend"><span class="s st-regime"><b class="tag">REG</b> regime</span>
<span class="s st-opposition"><b class="tag">OPP</b> opposition</span>
<span class="s st-neutral"><b class="tag">NEU</b> neutral</span>
<span class="chip">claim type and confidence</span>
<b class="flag">review</b> stance confidence under $review, or not English.
Evidence: <span class="ev sp key">solid outline</span> pushed toward the label,
<span class="ev sn key">dashed outline</span> against it.</p>
<p class="controls no-print">Highlight the evidence for
<button type="button" data-task="stance" aria-pressed="true">stance</button>
<button type="button" data-task="claim_type" aria-pressed="false">claim type</button>
&mdash; hover, focus or click a sentence.</p>
</header>
<div class="layout">
<main>
$body
</main>
<aside id="panel" class="no-print" aria-live="polite"><p>Hover, focus or click a sentence to see its labels, scores and evidence.</p></aside>
</div>
<script type="application/json" id="report-data">$data</script>
<script>$script</script>
</body>
</html>
""")

_STYLE = """
:root { --reg: #d55e00; --opp: #0072b2; --neu: #6b6b6b; --toward: #007a5a; --against: #b4457f; }
* { box-sizing: border-box; }
body { font: 16px/1.6 Georgia, "Times New Roman", serif; color: #1a1a1a; margin: 0 auto; padding: 1rem 1.5rem;
  max-width: 1280px; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { font-size: 1.5rem; margin: .2rem 0; } h2 { font-size: 1.25rem; border-bottom: 1px solid #999; }
h3 { font-size: 1rem; } .meta, .legend, .controls { font: 13px/1.5 system-ui, sans-serif; color: #333; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 320px; gap: 1.5rem; align-items: start; }
aside { position: sticky; top: 1rem; font: 13px/1.45 system-ui, sans-serif; border: 1px solid #999;
  padding: .6rem .8rem; background: #fafafa; max-height: 95vh; overflow: auto; }
aside h4 { margin: .6rem 0 .2rem; font-size: 13px; } aside ol { margin: 0; padding-left: 1.2rem; }
.s { padding: 1px 2px; border-radius: 2px; cursor: pointer; }
.s.st-regime { background: rgba(213, 94, 0, .14); border-bottom: 3px solid var(--reg); }
.s.st-opposition { background: rgba(0, 114, 178, .14); border-bottom: 3px double var(--opp); }
.s.st-neutral { background: rgba(120, 120, 120, .10); border-bottom: 2px dotted var(--neu); }
.s:hover, .s:focus, .s.active { outline: 2px solid #111; outline-offset: 1px; }
.tag { font: bold 10px/1 system-ui, sans-serif; letter-spacing: .04em; padding: 1px 3px; margin-right: 3px;
  border: 1px solid currentColor; border-radius: 2px; vertical-align: 2px; }
.st-regime .tag { color: #a34500; } .st-opposition .tag { color: #004f7c; } .st-neutral .tag { color: #444; }
.flag { font: bold 10px/1 system-ui, sans-serif; text-transform: uppercase; padding: 1px 3px; margin-right: 3px;
  border: 1px dashed #000; background: #fff6bf; vertical-align: 2px; }
.chip { font: 11px/1 system-ui, sans-serif; border: 1px solid #555; border-radius: 9px; padding: 1px 6px;
  margin-left: 4px; background: #fff; vertical-align: 1px; white-space: nowrap; }
.chip.none { color: #666; border-color: #bbb; }
.tag, .flag, .ev.key { white-space: nowrap; }
main { overflow-wrap: anywhere; }
svg.chart { max-width: 100%; height: auto; }
.ev.key { outline: 2px solid var(--toward); padding: 0 2px; }
.ev.sn.key { outline: 2px dashed var(--against); }
.show-stance .s:is(:hover, :focus, .active) .ev.sp, .show-claim_type .s:is(:hover, :focus, .active) .ev.cp {
  outline: 2px solid var(--toward); background: rgba(0, 158, 115, .22); font-weight: bold; }
.show-stance .s:is(:hover, :focus, .active) .ev.sn, .show-claim_type .s:is(:hover, :focus, .active) .ev.cn {
  outline: 2px dashed var(--against); background: rgba(204, 121, 167, .22); text-decoration: line-through; }
.charts { display: flex; flex-wrap: wrap; gap: 2rem; font: 12px system-ui, sans-serif; }
figure { margin: .3rem 0; } figcaption { margin-bottom: .2rem; }
.chart text { font: 11px system-ui, sans-serif; fill: #111; } .claim-bar { fill: #555; }
.review { border-left: 4px double #000; padding-left: .8rem; font-size: 14px; }
.why { font: 12px system-ui, sans-serif; color: #444; }
button { font: 12px system-ui, sans-serif; } button[aria-pressed="true"] { font-weight: bold; text-decoration: underline; }
.bar { display: inline-block; height: 8px; background: #555; vertical-align: middle; margin-right: 4px; }
@media (max-width: 900px) { .layout { grid-template-columns: 1fr; } aside { position: static; } }
@media (max-width: 480px) { body { padding: .75rem; } .charts { gap: .5rem; } }
@media print { .no-print { display: none; } .layout { display: block; } body { font-size: 12pt; }
  .s { break-inside: avoid; } a { color: inherit; } }
"""

_SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var panel = document.getElementById("panel");
  var pinned = null;
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function scores(values) {
    var list = el("ol");
    Object.keys(values).sort(function (a, b) { return values[b] - values[a]; }).slice(0, 4).forEach(function (k) {
      var item = el("li");
      var bar = el("span", undefined, "bar");
      bar.style.width = Math.round(values[k] * 80) + "px";
      item.appendChild(bar);
      item.appendChild(document.createTextNode(k.replace(/_/g, " ") + " " + values[k].toFixed(2)));
      list.appendChild(item);
    });
    return list;
  }
  function evidence(spans) {
    var list = el("ol");
    if (!spans || !spans.length) { list.appendChild(el("li", "none")); }
    (spans || []).forEach(function (span) {
      var sign = span.weight > 0 ? "+ toward: " : "\\u2212 against: ";
      list.appendChild(el("li", sign + "\\u201c" + span.text + "\\u201d " + span.weight.toFixed(2)));
    });
    return list;
  }
  function show(node) {
    var s = data[Number(node.dataset.d)][Number(node.dataset.s)];
    panel.textContent = "";
    panel.appendChild(el("h4", "Stance: " + s.stance + " (" + s.stance_confidence.toFixed(2) + ")"));
    if (s.flag) { panel.appendChild(el("p", s.flag + (s.flag === "out of scope" ? " (language " + s.language + ")" : ""), "flag")); }
    panel.appendChild(scores(s.stance_scores));
    panel.appendChild(el("h4", "Evidence for " + s.stance + " (log-odds)"));
    panel.appendChild(evidence(s.evidence && s.evidence.stance));
    panel.appendChild(el("h4", "Claim type: " + s.claim_type.replace(/_/g, " ") + " (" + s.claim_confidence.toFixed(2) + ")"));
    panel.appendChild(scores(s.claim_scores));
    panel.appendChild(el("h4", "Evidence for " + s.claim_type.replace(/_/g, " ") + " (log-odds)"));
    panel.appendChild(evidence(s.evidence && s.evidence.claim_type));
  }
  function pin(node) {
    if (pinned) { pinned.classList.remove("active"); }
    pinned = node;
    node.classList.add("active");
    show(node);
  }
  document.querySelectorAll("main .s").forEach(function (node) {
    node.addEventListener("mouseenter", function () { show(node); });
    node.addEventListener("mouseleave", function () { if (pinned) { show(pinned); } });
    node.addEventListener("focus", function () { pin(node); });
    node.addEventListener("click", function () { pin(node); });
  });
  document.querySelectorAll("button[data-task]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.body.className = "show-" + button.dataset.task;
      document.querySelectorAll("button[data-task]").forEach(function (other) {
        other.setAttribute("aria-pressed", String(other === button));
      });
    });
  });
  document.documentElement.dataset.ready = "1";
})();
"""
