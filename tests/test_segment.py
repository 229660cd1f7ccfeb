"""Sentence splitting on news text and posts, checked on the seed articles."""

from __future__ import annotations

import pytest

import stancekit.data.segment
from stancekit.data.segment import split_sentences

from conftest import SEEDS_DIR

SEEDS = sorted(SEEDS_DIR.glob("*.txt"))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_offsets_point_at_the_sentence_text(path):
    text = path.read_text(encoding="utf-8")
    sentences = split_sentences(text)
    assert sentences
    previous_end = 0
    for sentence in sentences:
        assert text[sentence.start:sentence.end] == sentence.text
        assert sentence.text == sentence.text.strip() and sentence.text
        assert sentence.start >= previous_end
        previous_end = sentence.end


def sentences_of(name: str) -> list[str]:
    path = next(p for p in SEEDS if p.name.startswith(name))
    return [s.text for s in split_sentences(path.read_text(encoding="utf-8"))]


def test_quotation_stays_with_its_attribution():
    texts = sentences_of("003")
    quote = next(t for t in texts if t.startswith("Further to this, the state-run Resalat Daily"))
    assert quote.endswith("this one is a soft war.”")


def test_stray_closing_quote_joins_the_sentence_before():
    texts = sentences_of("003")
    assert "”" not in texts
    assert any(t.endswith("viable and independent alternative.”") for t in texts)


def test_headlines_bylines_and_boilerplate_lines_are_units():
    texts = sentences_of("002")
    assert "Nora Bandari" in texts
    assert "Wednesday 12/January/2022 - 03:10 PM" in texts
    assert "Twitter and Soleimani" in texts
    assert "Copyright © 2020 All Rights Reserved | XML Sitemap" in sentences_of("001")


def test_bullets_are_stripped_and_datelines_join_their_headline():
    texts = sentences_of("004")
    assert any(t.startswith("mocked Rouhani’s statement") for t in texts)
    assert not any(t.startswith("•") for t in texts)
    assert "Iran. July 24, 2018. New Round of Truck Drivers’ Nationwide Strike" in texts


def test_hashtag_lines_without_final_punctuation():
    texts = sentences_of("004")
    assert "#IranFloods-April 4, Poledokhtar,Lorestan province W #Iran" in texts


def test_abbreviations_do_not_end_sentences():
    text = "Dr. Hassan met U.S. officials on Jan. 3 at 5 p.m. in Vienna. Talks resumed."
    assert [s.text for s in split_sentences(text)] == [
        "Dr. Hassan met U.S. officials on Jan. 3 at 5 p.m. in Vienna.", "Talks resumed."]


def test_posts_and_mixed_newlines():
    text = "Free them all!!! #FreeToomaj\r\n\r\n- item one\r- item two\n1) numbered point"
    assert [s.text for s in split_sentences(text)] == [
        "Free them all!!! #FreeToomaj", "item one", "item two", "numbered point"]


def test_empty_and_blank_documents():
    assert split_sentences("") == []
    assert split_sentences(" \n\t\n") == []


def test_very_long_line_is_split_without_losing_text():
    text = "The strike goes on " * 2000
    sentences = split_sentences(text)
    assert "".join(s.text for s in sentences).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize("text, expected", [
    ('The talks failed completely." "We will respond," he added.',
     ['The talks failed completely."', '"We will respond," he added.']),
    # quotations from seed 000, placed back to back as news copy often has them
    ("“Iran is using militias everywhere to oppress people.” “Syrian people, it’s okay…because they are "
     "killing us!” said another activist.",
     ["“Iran is using militias everywhere to oppress people.”",
      "“Syrian people, it’s okay…because they are killing us!” said another activist."]),
    # and from seed 003
    ("He called it “managed and guided from abroad.” “We cannot leave people defenseless,” the MP said.",
     ["He called it “managed and guided from abroad.”", "“We cannot leave people defenseless,” the MP said."]),
    ('Officials said "no one was hurt." Witnesses disagreed.',
     ['Officials said "no one was hurt."', "Witnesses disagreed."]),
])
def test_back_to_back_quotations_are_separate_sentences(text, expected):
    assert [s.text for s in split_sentences(text)] == expected


def one_paragraph(*starts: str) -> str:
    """The lines of seed 003 that begin with ``starts``, joined into one paragraph (quotations included)."""
    lines = next(p for p in SEEDS if p.name.startswith("003")).read_text(encoding="utf-8").splitlines()
    return " ".join(line for line in lines if line.startswith(starts))


def test_a_long_text_gives_the_sentences_of_its_parts():
    """A document repeated 200 times on one line splits into the document's sentences, 200 times."""
    document = one_paragraph("He has also stated", "Further to this", "The mullahs are intent")
    sentences = [s.text for s in split_sentences(document)]
    assert len(sentences) > 5
    long = split_sentences(" ".join([document] * 200))
    assert [s.text for s in long] == sentences * 200


class CountingSegmenter:
    """pysbd's segmenter, counting the characters it is given."""

    def __init__(self, segmenter) -> None:
        self.segmenter = segmenter
        self.characters = 0

    def segment(self, text: str) -> list[str]:
        self.characters += len(text)
        return self.segmenter.segment(text)


@pytest.mark.parametrize("sentence", ["Officials said the talks in Vienna would resume next week after a short pause.",
                                      "The strike goes on"])  # the second never ends: cut at spaces
def test_splitting_work_grows_linearly_with_the_length(monkeypatch, sentence):
    counter = CountingSegmenter(stancekit.data.segment._segmenter())
    monkeypatch.setattr(stancekit.data.segment, "_segmenter", lambda: counter)
    work = []
    for copies in (600, 1200):
        counter.characters = 0
        text = " ".join([sentence] * copies)
        split_sentences(text)
        work.append(counter.characters / len(text))
    assert work[1] <= 1.05 * work[0] and work[1] < 1.5  # each character read about once, not more as it grows


def test_cli_splits_a_long_text_at_sentence_ends(cli, tmp_path):
    sentence = "Officials said the talks in Vienna would resume next week after a short pause."
    (tmp_path / "long.txt").write_text(" ".join([sentence] * 70) + "\n", encoding="utf-8")
    process = cli("classify", "long.txt", "--split-sentences", "-m", "tfidf", "--format", "table")
    assert process.returncode == 0, process.stderr
    rows = process.stdout.splitlines()[1:]
    assert len(rows) == 70 and all(row.endswith(sentence) for row in rows)
