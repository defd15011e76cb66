"""Finding catalog sentences left in English on a page that should be in another language."""

from __future__ import annotations

import html
import re

from babel.messages.pofile import read_po

from intake import i18n

_PLACEHOLDER = re.compile(r"(%\(\w+\)s|\s+)")


def catalog_sentences(locale: str = "fr_CA") -> dict[str, str]:
    """English sentence → its translation, for every sentence whose translation differs."""
    with i18n.catalog_path(locale).open("rb") as source:
        catalog = read_po(source, locale=locale)
    sentences: dict[str, str] = {}
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english, translated in zip(ids, strings, strict=False):
            if english and english != translated:
                sentences[english] = translated
    return sentences


def untranslated(page_html: str, sentences: dict[str, str]) -> list[str]:
    """Catalog sentences that appear in English in the page's text and attributes' labels
    (placeholders may have been filled in)."""
    labels = " ".join(re.findall(r'aria-label="([^"]*)"', page_html))
    text = html.unescape(re.sub(r"<[^>]+>", " ", page_html) + " " + labels)
    text = re.sub(r"\s+", " ", text)
    found = []
    for english in sentences:
        pattern = r"\s+".join(
            ".+?" if part.startswith("%(") else re.escape(part)
            for part in _PLACEHOLDER.split(english)
            if part and not part.isspace()
        )
        # Single words ("Send", "Stage") count only as whole words.
        pattern = rf"(?<![\w'’]){pattern}(?![\w'’])"
        if re.search(pattern, text):
            found.append(english)
    return found


# French typography (fr-CA, as the Office québécois de la langue française writes it): a
# non-breaking space (U+00A0, or the narrow U+202F) before « : », « ; », « ? » and « ! », and
# inside guillemets; units in French (« Mo », not « MB »).
_NO_BREAK = "\u00a0\u202f"
_HIGH_MARK = re.compile(r"(?P<before>.?)(?P<mark>[:;?!])(?P<after>.?)", re.DOTALL)
_ENGLISH_UNIT = re.compile(r"(?<![\w%])(?:[kKMGT]i?B|bytes?)(?!\w)")


def typography_faults(french: str) -> list[str]:
    """What a fr-CA reader would find wrong in one translated sentence (empty: nothing)."""
    faults = []
    for found in _HIGH_MARK.finditer(french):
        before, mark, after = found["before"], found["mark"], found["after"]
        if after and not (after.isspace() or after in "»)”.,"):
            continue  # not a sentence's punctuation: an address ("http://", "?lang="), 12:30
        if not before or before in _NO_BREAK or (before in "?!" and mark in "?!"):
            continue
        faults.append(f"no non-breaking space before {mark!r}")
    for opening in re.finditer("«(.)", french):
        if opening[1] not in _NO_BREAK:
            faults.append("no non-breaking space after «")
    for closing in re.finditer("(.)»", french):
        if closing[1] not in _NO_BREAK:
            faults.append("no non-breaking space before »")
    for unit in _ENGLISH_UNIT.finditer(french):
        faults.append(f"an English unit: {unit[0]!r}")
    return faults


def typography_report(sentences: dict[str, str]) -> dict[str, list[str]]:
    """Every translated sentence that breaks a rule of French typography, with what it breaks."""
    return {
        english: faults
        for english, french in sentences.items()
        if (faults := typography_faults(french))
    }
