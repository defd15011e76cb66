"""The reporter guidance says truthfully who can open a report sent to each group (issue 15):
that group's intake officers, and the custodian roles of its recovery key acting together, as
the verified recipient directory records them; and no longer that the solicitor's office "cannot
read" a report about it.
"""

from __future__ import annotations

import html
import re

import httpx

from tests.support import reports
from tests.support.catalog_check import catalog_sentences, untranslated
from tests.support.instance import Instance

FRENCH = {"accept-language": "fr-CA,fr;q=0.9"}


def _text(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


async def test_the_guide_and_the_form_name_each_groups_custodian_roles(
    client: httpx.AsyncClient, seeded: Instance
) -> None:
    # The test ceremony: the solicitor's key is held by city-solicitor, deputy-solicitor and
    # city-clerk, the alternate group's by city-auditor, council-chair and city-clerk, 2 of 3.
    for path in ("/guide/process", "/report"):

        async def get(path: str = path, **headers: str) -> httpx.Response:
            if path == "/report":  # the routing choice is on the form's second page
                return await reports.questions_page(client, **headers)
            return await client.get(path, headers=headers or None)

        english = _text(await get())
        assert (
            "For the solicitor's office: its intake officers can open a report sent to it, and so "
            "can any 2 of these people acting together, who each keep a share of its recovery "
            "key: city solicitor, deputy solicitor, city clerk." in english
        )
        assert (
            "For the alternate recipients: its intake officers can open a report sent to it, and "
            "so can any 2 of these people acting together, who each keep a share of its recovery "
            "key: city auditor, council chair, city clerk." in english
        )
        assert "office cannot read" not in english and "hold the keys" not in english

        page = await get(**FRENCH)
        french = _text(page)
        assert (
            "Pour le Service juridique : ses agents de réception peuvent ouvrir un signalement "
            "qui lui est envoyé" in french
        )
        assert "city solicitor, deputy solicitor, city clerk" in french
        assert "city auditor, council chair, city clerk" in french
        assert "Service juridique ne peut pas le lire" not in french
        assert untranslated(page.text, catalog_sentences()) == []
