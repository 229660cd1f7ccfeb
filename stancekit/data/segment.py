"""Sentence splitting for news text and social-media posts, with character offsets.

Lines are split first (headlines, bylines, bullet items and hashtag lines often
end without punctuation), then each line is split into sentences by pysbd, a
maintained rule-based splitter that knows English abbreviations and keeps a
quotation together with its attribution; a long line is read in windows, so that a
text of any length splits into the same sentences as its parts, in linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

_LINE = re.compile(r"[^\r\n]+")
_BULLET = re.compile(r"^\s*(?:[•·▪◦‣*\-–—]|\d{1,2}[.)])\s+")
_HAS_WORD = re.compile(r"\w")
_MIN_WORDS = 3
"""A pysbd piece of a line with fewer words (``_WORD``) than this, a dateline such as "Iran." or
"July 23, 2018.", joins the piece after it on the same line; the last piece of a line stays alone."""
_WORD = re.compile(r"\S*[^\W\d_]\S*")
"""A word: a whitespace-delimited token that contains a letter."""
_QUOTE_BOUNDARY = re.compile(r"[.!?…][\"”’»]+(?=\s+[\"“‘«][\w(])")
"""The end of a quoted sentence followed by the opening of another quotation: always a boundary,
which pysbd misses or splits on the wrong side of the closing quote."""
_WINDOW = 5_000
"""pysbd reads at most this many characters at a time: it slows down more than linearly on long
lines. A longer line is read in windows (``_windowed_spans``)."""
_LOOKAHEAD = 1_000
"""A sentence end found in a window is kept only with this many characters of the window after it:
pysbd decides some ends by what follows (a quotation keeps its sentences together up to its closing
quote), so an end near the window's edge is decided again in the next window."""


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document: ``document[start:end] == text``."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(document: str) -> list[Sentence]:
    """Split ``document`` into sentences, each with its character offsets in ``document``.

    Blank lines are dropped; leading bullet markers are left out of the sentence;
    fragments without any letter or digit (a stray closing quote) join the
    sentence before them, and datelines of one or two words join the sentence
    after them on the same line.
    """
    sentences: list[Sentence] = []
    for line in _LINE.finditer(document):
        bullet = _BULLET.match(line.group())
        content_start = line.start() + (bullet.end() if bullet else 0)
        for start, end in _line_spans(document, content_start, line.end()):
            if sentences and not _HAS_WORD.search(document[start:end]):
                previous = sentences.pop()
                start = previous.start
            sentences.append(Sentence(document[start:end], start, end))
    return sentences


def _line_spans(document: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield the (start, end) offsets of the sentences of one line, datelines joined forward."""
    pending_start: int | None = None
    spans = list(_raw_spans(document, start, end))
    for index, (span_start, span_end) in enumerate(spans):
        if pending_start is None:
            pending_start = span_start
        is_last = index == len(spans) - 1
        wordless = not _HAS_WORD.search(document, span_start, span_end)  # joins backward instead
        if is_last or wordless or len(_WORD.findall(document, span_start, span_end)) >= _MIN_WORDS:
            yield pending_start, span_end
            pending_start = None


def _raw_spans(document: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield the (start, end) offsets of the stripped pysbd pieces of one line, cut after
    back-to-back quotations."""
    for boundary in _QUOTE_BOUNDARY.finditer(document, start, end):
        yield from _windowed_spans(document, start, boundary.end())
        start = boundary.end()
    yield from _windowed_spans(document, start, end)


def _windowed_spans(document: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield the pysbd pieces of ``document[start:end]``, read ``_WINDOW`` characters at a time.

    Each window starts where a piece starts. The pieces pysbd finds in it that end at least
    ``_LOOKAHEAD`` characters before the window's edge are kept (all but the last when none
    does); the next window starts where the first piece not kept starts. So a sentence end is
    decided with the same text on both sides of it whatever the line's length, and each
    window moves on by about ``_WINDOW - _LOOKAHEAD`` characters: the work grows linearly
    with the length. A window without any sentence end (``_WINDOW`` characters that are no
    sentence) is cut at its last space.
    """
    while True:
        stop = min(end, start + _WINDOW)
        spans = _pysbd_spans(document, start, stop)
        if stop == end:
            yield from spans
            return
        if len(spans) > 1:
            kept = [span for span in spans[:-1] if span[1] <= stop - _LOOKAHEAD] or spans[:-1]
            yield from kept
            start = spans[len(kept)][0]
            continue
        cut = document.rfind(" ", start + _WINDOW // 2, stop)
        cut = stop if cut < 0 else cut
        stripped = document[start:cut].strip()
        if stripped:
            first = document.index(stripped, start)
            yield first, first + len(stripped)
        start = cut


def _pysbd_spans(document: str, start: int, end: int) -> list[tuple[int, int]]:
    """The (start, end) offsets of the stripped pieces pysbd splits ``document[start:end]`` into."""
    chunk = document[start:end]
    spans, cursor = [], 0
    for piece in _segmenter().segment(chunk):
        stripped = piece.strip()
        if not stripped:
            continue
        found = chunk.find(stripped, cursor)
        if found < 0:  # pysbd altered the text; fall back to its reported length
            found = cursor
        cursor = found + len(stripped)
        spans.append((start + found, start + cursor))
    return spans
