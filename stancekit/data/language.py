"""Which texts the models can read: a language code and an in-scope flag per text.

The models read English. A text is judged in three steps, cheapest first:

1. **Script.** Hashtags, @mentions and links are set aside (unless nothing else has a
   letter). A text whose letters are mostly outside the Latin script (Persian,
   Arabic, Cyrillic, Hebrew, CJK ...) is out of scope; the identifier names its language.
2. **English function words.** A Latin-script text in which at least two distinct
   common English function words make up a fifth of the words is English. Most texts
   stop here, so scoring stays fast.
3. **Identifier.** Other Latin-script texts go to py3langid (the naive Bayes model of
   langid.py, BSD-3-Clause, shipped in its wheel, offline). A text it assigns to another
   language with a probability of at least ``OTHER_LANGUAGE_PROBABILITY`` (higher for
   texts of a few words) is out of scope; everything else (short posts, datelines,
   names) counts as English.

Texts without letters (numbers, emoji, empty) get ``und`` (undetermined) and stay in
scope: there is no language to object to.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

OTHER_LANGUAGE_PROBABILITY = (0.6, 0.9)
"""The identifier's probability from which a Latin-script text counts as another language:
for texts of at least ``_LONG_TEXT_WORDS`` words, and for shorter ones (less evidence).

With these, no sentence of the shipped corpus (all English, many of them datelines,
bylines and headlines) is flagged, while an eight-word Spanish sentence is."""
_LONG_TEXT_WORDS = 5
_ENGLISH_LIKE = frozenset({"en", "pcm", "sco"})
"""Labels counted as English: py3langid puts many English datelines ("28 October 2024") in
Nigerian Pidgin, an English-lexified creole."""
UNDETERMINED = "und"

_SET_ASIDE = re.compile(r"https?://\S+|www\.\S+|[#@]\w+")
_LETTER = re.compile(r"[^\W\d_]")
_NON_LATIN_LETTER = re.compile(r"[^\W\d_A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u1E00-\u1EFF]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_FUNCTION_WORDS = frozenset(
    "the of and to is are was were for that with from by this these those has have had will would "
    "which who whom their they them its it's been being not but or said says after against than "
    "about into over under while because should could there here what when where an be his her "
    "our we you".split())
_MIN_FUNCTION_WORDS = 2
_FUNCTION_WORD_SHARE = 0.2


class Scope(NamedTuple):
    """A text's language (ISO 639 code, ``und`` when it has no letters) and whether the models cover it."""

    language: str
    in_scope: bool


def detect_scope(text: str) -> Scope:
    """The language of ``text`` and whether it is in the models' scope (English); see the module doc."""
    body = _SET_ASIDE.sub(" ", text)
    if not _LETTER.search(body):
        body = text.replace("_", " ")
        if not _LETTER.search(body):
            return Scope(UNDETERMINED, True)
    non_latin = len(_NON_LATIN_LETTER.findall(body))
    if non_latin and non_latin * 2 >= len(_LETTER.findall(body)):
        return Scope(_identifier().classify(body)[0], False)
    words = _WORD.findall(body.lower())
    function_words = [word for word in words if word in _FUNCTION_WORDS]
    if len(set(function_words)) >= _MIN_FUNCTION_WORDS and len(function_words) >= _FUNCTION_WORD_SHARE * len(words):
        return Scope("en", True)
    language, probability = _identifier().classify(body)
    threshold = OTHER_LANGUAGE_PROBABILITY[len(words) < _LONG_TEXT_WORDS]
    if language not in _ENGLISH_LIKE and probability >= threshold:
        return Scope(language, False)
    return Scope("en", True)


@lru_cache(maxsize=1)
def _identifier():
    """py3langid's identifier with normalised probabilities (loads its model once, on first use)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
