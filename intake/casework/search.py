"""Searching words in the cases one holds a key to.

Nothing is indexed: every search opens this person's own sealed copies with the private key of
their session, decrypts the cases' entries in memory, and keeps nothing. It reads at most
``settings.search_max_cases`` cases, the most recently received first, and says when that limit
cut it short. Nothing is written but one audit event saying that this person searched (never
the words, nor how many cases were read: that would tell how many they hold).

Words match whatever their case and accents ("resume" finds "Résumé"), and a case matches when
each word is in it: in the report, a message or a note.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select

from intake.accounts.sessions import SignedIn
from intake.casework import access, records
from intake.casework.vocabulary import EntryKind, Stage
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.operations import audit
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Case, CaseKey, Entry

MAX_QUERY_CHARS = 200
MAX_WORDS = 10
EXCERPT_CHARS = 160  # around the first word found
AUDIT_ACTION = "staff.search"


@dataclass(frozen=True)
class Hit:
    """A case in which every word was found, with a short excerpt around the first one."""

    ref: str
    stage: Stage
    category: str
    received_on: date
    excerpt: str


@dataclass(frozen=True)
class SearchResult:
    words: list[str]
    hits: list[Hit]
    searched: int  # how many cases were read
    limit: int
    cut_short: bool  # more cases were held than the limit let this search read


def fold(text: str) -> str:
    """Text as the search compares it: accents taken off, case folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _folded_with_places(text: str) -> tuple[str, list[int]]:
    """The folded text, and for each of its characters the place it came from in ``text``."""
    folded: list[str] = []
    places: list[int] = []
    for place, char in enumerate(text):
        for piece in fold(char):
            folded.append(piece)
            places.append(place)
    return "".join(folded), places


def words_of(query: str) -> list[str]:
    """The words searched for, folded; else InvalidInput saying what to change."""
    if "\x00" in query or not records.encodable(query):
        raise InvalidInput(N_("The search contains a character that cannot be read."), field="q")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(
            N_("The search is too long: at most %(limit)s characters."),
            field="q",
            limit=MAX_QUERY_CHARS,
        )
    words = list(dict.fromkeys(fold(word) for word in query.split() if fold(word)))
    if not words:
        raise InvalidInput(N_("Type at least one word to search for."), field="q")
    if len(words) > MAX_WORDS:
        raise InvalidInput(
            N_("Search for at most %(limit)s words at once."), field="q", limit=MAX_WORDS
        )
    return words


def _texts(kind: EntryKind, body: str) -> Iterator[str]:
    """The searchable texts of an entry: the report's answers are the strings of its JSON."""
    if kind != EntryKind.REPORT:
        yield body
        return
    try:
        stack: list[object] = [json.loads(body)]
    except ValueError:
        yield body
        return
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _excerpt(texts: list[str], word: str) -> str:
    for text in texts:
        folded, places = _folded_with_places(text)
        found = folded.find(word)
        if found < 0:
            continue
        start = places[found]
        begin = max(0, start - EXCERPT_CHARS // 2)
        end = min(len(text), begin + EXCERPT_CHARS)
        shown = " ".join(text[begin:end].split())
        return ("…" if begin else "") + shown + ("…" if end < len(text) else "")
    return ""


async def search_own_cases(runtime: Runtime, signed_in: SignedIn, query: str) -> SearchResult:
    """The cases this person holds in which every word of ``query`` occurs, newest first."""
    access.require_role(signed_in, "view")
    words = words_of(query)
    limit = runtime.settings.search_max_cases
    me = signed_in.staff.id
    async with db.transaction(runtime.sessions) as session:
        held = (
            await session.exec(
                select(Case, CaseKey.sealed)
                .join(CaseKey, col(CaseKey.case_id) == Case.id)
                .where(CaseKey.staff_id == me)
                .where(col(Case.purged_on).is_(None))
                .order_by(col(CaseKey.received_on).desc(), col(CaseKey.case_id).desc())
                .limit(limit + 1)
            )
        ).all()
        cut_short = len(held) > limit
        held = held[:limit]
        entries = (
            (
                await session.exec(
                    select(Entry).where(col(Entry.case_id).in_([case.id for case, _ in held]))
                )
            ).all()
            if held
            else []
        )
        await audit.record(session, actor=signed_in.actor, action=AUDIT_ACTION)
    by_case: dict[str, list[Entry]] = {}
    for entry in entries:
        by_case.setdefault(entry.case_id, []).append(entry)
    hits: list[Hit] = []
    for case, sealed in held:
        keys = access.unseal_own_copy(signed_in, case.id, sealed)
        if keys is None:
            continue
        texts = [
            text
            for entry in records.in_order(keys, by_case.get(case.id, []))
            for text in _texts(EntryKind(entry.kind), records.decrypt_entry(keys, entry))
        ]
        folded = [fold(text) for text in texts]
        if all(any(word in text for text in folded) for word in words):
            hits.append(
                Hit(
                    ref=case.ref,
                    stage=Stage(case.stage),
                    category=case.category,
                    received_on=case.received_on,
                    excerpt=_excerpt(texts, words[0]),
                )
            )
    return SearchResult(
        words=words, hits=hits, searched=len(held), limit=limit, cut_short=cut_short
    )
