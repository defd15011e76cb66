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
