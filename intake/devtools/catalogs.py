"""Message catalogs, for developers: find every sentence to translate, and update the catalogs.

``make translations`` runs :func:`update`: it extracts the sentences of the templates and of
the Python code by their mark (``_()``, ``N_()``, ``gettext()``, ``ngettext()``,
``N_plural()``) into ``intake/locale/quietline.pot``, and merges them into each language's
``.po`` file, where a translator fills in the new entries. The test suite uses :func:`extract`
to check that every catalog translates every sentence, and :mod:`intake.devtools.sentences` to
check that no sentence a person reads goes without a mark.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from intake import i18n
from intake.devtools import sentences

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_FILE = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"
METHOD_MAP = [
    ("intake/storage/migrations/**", "ignore"),
    ("intake/**.py", "python"),
    ("crypto/**.py", "python"),
    ("intake/web/templates/**.html", "jinja2"),
]
OPTIONS = {
    "intake/web/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "1"}
}
# The marks: gettext's own, and N_plural for a sentence with a plural form (intake.i18n).
KEYWORDS = {**DEFAULT_KEYWORDS, "N_plural": (1, 2)}


def extract() -> Catalog:
    """Every translatable sentence of the code and the templates, with where it appears."""
    catalog = Catalog(project="Quietline", domain=i18n.DOMAIN, charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT,
        METHOD_MAP,
        OPTIONS,
        keywords=KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    ):
        if isinstance(message, tuple) and not message[0]:
            continue
        if not message:
            continue
        catalog.add(
            message,
            None,
            [(filename, lineno)],
            auto_comments=comments,
            context=context,
            flags=("python-format",) if "%(" in str(message) else (),
        )
    for finding in sentences.allowed_sentences(ROOT):
        assert finding.sentence is not None
        catalog.add(
            finding.sentence,
            None,
            [(finding.path, finding.line)],
            flags=("python-format",) if "%(" in finding.sentence else (),
        )
    return catalog


def update() -> None:
    template = extract()
    with TEMPLATE_FILE.open("wb") as out:
        write_po(out, template, width=100, sort_output=True)
    for locale in i18n.available_locales()[1:]:
        path = i18n.catalog_path(locale)
        with path.open("rb") as source:
            catalog = read_po(source, locale=locale, domain=i18n.DOMAIN)
        catalog.update(template, update_header_comment=False)
        with path.open("wb") as out:
            write_po(out, catalog, width=100, sort_output=True, ignore_obsolete=True)
        missing = sum(1 for message in catalog if message.id and not message.string)
        print(f"{path.relative_to(ROOT)}: {len(catalog)} sentences, {missing} to translate")


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["update"]):
        sys.exit("usage: python -m intake.devtools.catalogs [update]")
    update()
