"""The HTML report: self-contained, labelled without colour, and rendered by a real headless browser."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stancekit.errors import InputError
from stancekit.jobs.report import read_documents, write_report
from stancekit.views.report import CONTENT_SECURITY_POLICY, Document

from conftest import write_jsonl

DOCUMENT = ("Political prisoners in Ghezel Hesar prison have launched a hunger strike to protest the wave of "
            "executions.\nThe martyr Soleimani is alive forever.\n\nThe Central Bank said the official exchange "
            "rate would be reviewed at its next board meeting.\nمرگ بر دیکتاتور\n"
            "Join the global day of action this Saturday #StopExecutionsInIran")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
SCREENSHOT_ENV = "STANCEKIT_REPORT_SCREENSHOT"
"""Where the browser test also saves its screenshot (``make report-check`` sets docs/report.png)."""
PROBE = """<script>
(function () {
  var first = document.querySelector("main .s");
  first.click();
  var body = document.body;
  body.dataset.probePanel = document.getElementById("panel").textContent;
  body.dataset.probeResources = String(performance.getEntriesByType("resource").length);
  body.dataset.probeHighlighted = String(document.querySelectorAll(".s.active .ev").length);
})();
</script>
</body>"""
"""Appended to a copy of the page: clicks the first sentence and records what the page did."""
PHONE_WIDTH = 360
"""The narrowest screen the report is laid out for (CSS pixels)."""
PHONE = """<!DOCTYPE html>
<html><body style="margin: 0">
<iframe id="phone" width="$width" height="1600" style="border: 0" srcdoc="$page"></iframe>
<script>
window.addEventListener("load", function () {
  var page = document.getElementById("phone").contentDocument;
  var root = page.documentElement;
  var wide = [];
  page.querySelectorAll("body *").forEach(function (node) {
    if (node.getBoundingClientRect().right > root.clientWidth + 0.5) { wide.push(node.tagName + "." + node.className); }
  });
  var broken = [];
  page.querySelectorAll(".tag, .flag, .chip").forEach(function (node) {
    if (node.getClientRects().length > 1) { broken.push(node.textContent); }
  });
  document.body.dataset.viewport = String(root.clientWidth);
  document.body.dataset.scrollWidth = String(root.scrollWidth);
  document.body.dataset.wide = wide.slice(0, 5).join(" ");
  document.body.dataset.broken = broken.slice(0, 5).join("|");
});
</script>
</body></html>"""
"""A page that shows the report in a phone-wide frame and records what sticks out of it or breaks."""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    return write_report([Document("Sample <article>", DOCUMENT), Document("Empty", "")], path, model="tfidf")


def test_report_is_self_contained(report):
    page = report.read_text(encoding="utf-8")
    assert f'content="{CONTENT_SECURITY_POLICY}"' in page
    assert not re.search(r"""(?:src|href)\s*=\s*(?!["']?#)""", page)  # only in-page links
    assert not re.search(r"url\((?!#)|@import|https?://", page)
    assert "Sample &lt;article&gt;" in page  # titles are escaped


def test_sentences_are_marked_without_colour(report):
    page = report.read_text(encoding="utf-8")
    sentences = re.findall(r'<span class="s st-(\w+)" id="s-0-\d+"[^>]*><b class="tag"[^>]*>(\w+) ', page)
    assert len(sentences) == 5
    assert all({"regime": "REG", "opposition": "OPP", "neutral": "NEU"}[stance] == tag for stance, tag in sentences)
    assert page.count('class="chip') >= 5
    assert '<svg class="chart" role="img"' in page and "<title>Stance shares:" in page
    review = page[page.index("For review"):page.index("</section>")]
    assert "out of scope: language fa" in review  # the Persian slogan is listed for review


def test_report_command(cli, tmp_path):
    (tmp_path / "doc.txt").write_text(DOCUMENT, encoding="utf-8")
    process = cli("report", "doc.txt", "-o", "out.html", "--model", "tfidf")
    assert process.returncode == 0, process.stderr
    assert "wrote a report of 1 document to out.html" in process.stderr
    write_jsonl(tmp_path / "docs.jsonl", [{"id": "a-1", "body": DOCUMENT}, {"body": "The strike goes on."}])
    process = cli("report", "docs.jsonl", "--text-field", "body", "-o", "docs.html", "--model", "tfidf")
    assert process.returncode == 0, process.stderr
    page = (tmp_path / "docs.html").read_text(encoding="utf-8")
    assert "<h2>a-1</h2>" in page and "docs.jsonl, line 2" in page


@pytest.mark.parametrize("args, message", [
    (["missing.txt", "-o", "r.html"], "missing.txt: no such file"),
    (["docs.csv", "-o", "r.html"], "a report takes a .txt document or a .jsonl file of documents"),
    (["docs.jsonl", "-o", "r.html"], "docs.jsonl:1: text: missing text field"),
    (["blank.jsonl", "-o", "r.html"], "no documents to report on"),
])
def test_report_errors_are_one_line(cli, tmp_path, args, message):
    (tmp_path / "docs.csv").write_text("text\nhello\n", encoding="utf-8")
    write_jsonl(tmp_path / "docs.jsonl", [{"body": "x"}])
    (tmp_path / "blank.jsonl").write_text("\n", encoding="utf-8")
    process = cli("report", *args, "--model", "tfidf")
    assert process.returncode == 2
    assert message in process.stderr and process.stderr.count("\n") == 1
    assert not (tmp_path / "r.html").exists()


def test_read_documents(tmp_path):
    (tmp_path / "a.txt").write_text("One.\nTwo.", encoding="utf-8")
    assert read_documents(str(tmp_path / "a.txt")) == [Document("a.txt", "One.\nTwo.")]


def test_a_txt_document_is_read_through_the_line_reader(tmp_path):
    """A byte-order mark is dropped and Windows line endings become \\n; binary data and invalid UTF-8 are
    errors naming the line, as for every other input."""
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfOne.\r\nTwo.\r\n")
    assert read_documents(str(tmp_path / "bom.txt")) == [Document("bom.txt", "One.\nTwo.\n")]
    (tmp_path / "nul.txt").write_bytes(b"fine\nbin\x00ary\n")
    with pytest.raises(InputError, match=r"nul\.txt:2: binary data"):
        read_documents(str(tmp_path / "nul.txt"))
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(InputError, match=r"latin\.txt:1: invalid UTF-8"):
        read_documents(str(tmp_path / "latin.txt"))


def _browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


@pytest.mark.skipif(_browser() is None, reason="no chromium binary found (make report-check installs Debian's chromium)")
def test_report_in_headless_chromium(report, tmp_path):
    """Render the page: no console message (CSP violations and script errors are console messages),
    no network request, the script ran, a click shows the sentence's evidence; save a screenshot."""
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    common = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
              f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dump = subprocess.run([*common, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    assert dump.returncode == 0, dump.stderr[-2000:]
    console = [line for line in dump.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    assert 'data-ready="1"' in dump.stdout
    assert 'data-probe-resources="0"' in dump.stdout
    panel = re.search(r'data-probe-panel="([^"]*)"', dump.stdout).group(1)
    assert panel.startswith("Stance: ") and "toward:" in panel
    assert int(re.search(r'data-probe-highlighted="(\d+)"', dump.stdout).group(1)) > 0
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "report.png")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    shot = subprocess.run([*common, "--window-size=1280,1000", f"--screenshot={screenshot}", probe.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(_browser() is None, reason="no chromium binary found (make report-check installs Debian's chromium)")
def test_report_fits_a_phone_screen(report, tmp_path):
    """At 360 px nothing is wider than the screen (no sideways scrolling, no text cut off at the right) and
    no tag, flag or chip breaks across lines; the frame is saved as a screenshot. Headless Chromium's
    window is at least 500 px wide, so the report is shown in a 360 px frame."""
    from string import Template

    phone = tmp_path / "phone.html"
    page = html.escape(report.read_text(encoding="utf-8"), quote=True)
    phone.write_text(Template(PHONE).substitute(width=PHONE_WIDTH, page=page), encoding="utf-8")
    common = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
              f"--user-data-dir={tmp_path / 'profile'}"]
    dump = subprocess.run([*common, "--dump-dom", phone.as_uri()], capture_output=True, text=True, timeout=120)
    assert dump.returncode == 0, dump.stderr[-2000:]
    measured = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', dump.stdout[dump.stdout.index("<body"):]))
    assert measured["viewport"] == str(PHONE_WIDTH)
    assert measured["scroll-width"] == str(PHONE_WIDTH)
    assert measured["wide"] == ""
    assert measured["broken"] == ""
    screenshot = tmp_path / "report-phone.png"
    shot = subprocess.run([*common, f"--window-size={PHONE_WIDTH + 140},1000", f"--screenshot={screenshot}",
                           phone.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
