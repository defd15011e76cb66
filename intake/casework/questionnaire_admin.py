"""Administrators changing the questions: add, remove or move a question of a category (or of
the set asked for every category). Each change is a new questionnaire version, audited; older
versions stay, so reports keep the questions they were answered on."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlmodel import select

from intake.accounts.administration import require_admin
from intake.accounts.sessions import SignedIn
from intake.casework import questionnaires
from intake.casework.builtin_questions import EVERY_CATEGORY
from intake.casework.questions import Choice, Kind, Question
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.runtime import Runtime
from intake.storage import db
from intake.storage.models import Category

MAX_TEXT = 300


@dataclass(frozen=True)
class NewQuestion:
    """What the "add a question" form sends."""

    id: str
    kind: str
    text_en: str
    text_fr: str = ""
    help_en: str = ""
    help_fr: str = ""
    choices_en: str = ""
    choices_fr: str = ""
    required: bool = False
    may_identify: bool = False
    statistical: bool = False


def _texts(english: str, french: str) -> dict[str, str]:
    texts = {"en": english.strip()[:MAX_TEXT]}
    if french.strip():
        texts["fr_CA"] = french.strip()[:MAX_TEXT]
    return texts


def _choice_id(label: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:40]
    return slug if slug and slug[0].isalpha() else f"c_{slug}"[:40]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def build_question(entered: NewQuestion) -> Question:
    try:
        kind = Kind(entered.kind)
    except ValueError:
        raise InvalidInput(
            N_("Please choose one of the kinds of question."), field="kind"
        ) from None
    english, french = _lines(entered.choices_en), _lines(entered.choices_fr)
    if french and len(french) != len(english):
        raise InvalidInput(
            N_("Give the French choices in the same order and number as the English ones."),
            field="choices_fr",
        )
    choices = tuple(
        Choice(_choice_id(label), _texts(label, french[index] if french else ""))
        for index, label in enumerate(english)
    )
    return Question(
        id=entered.id.strip(),
        kind=kind,
        texts=_texts(entered.text_en, entered.text_fr),
        help=_texts(entered.help_en, entered.help_fr) if entered.help_en.strip() else {},
        required=entered.required,
        choices=choices if kind in (Kind.SINGLE, Kind.MULTIPLE) else (),
        may_identify=entered.may_identify,
        statistical=entered.statistical,
    )


async def _change(
    runtime: Runtime, admin: SignedIn, scope: str, change: str, edit: object
) -> questionnaires.Version:
    require_admin(admin)
    async with db.transaction(runtime.sessions) as session:
        if scope != EVERY_CATEGORY:
            known = (await session.exec(select(Category.id).where(Category.id == scope))).first()
            if known is None:
                raise InvalidInput(N_("Please choose one of the listed categories."), field="scope")
        current = (await questionnaires.current(session)).get(scope)
        asked = list(current.questions) if current else []
        asked = edit(asked)  # type: ignore[operator]
        return await questionnaires.save_version(
            session, scope, asked, actor=admin.actor, today=runtime.today(), change=change
        )


async def add_question(
    runtime: Runtime, admin: SignedIn, scope: str, entered: NewQuestion
) -> questionnaires.Version:
    question = build_question(entered)
    return await _change(
        runtime, admin, scope, f"added {question.id}", lambda asked: [*asked, question]
    )


def _position(asked: list[Question], ident: str) -> int:
    for index, question in enumerate(asked):
        if question.id == ident:
            return index
    raise InvalidInput(N_("There is no such question here."), field="question")


async def remove_question(
    runtime: Runtime, admin: SignedIn, scope: str, ident: str
) -> questionnaires.Version:
    def edit(asked: list[Question]) -> list[Question]:
        index = _position(asked, ident)
        return asked[:index] + asked[index + 1 :]

    return await _change(runtime, admin, scope, f"removed {ident}", edit)


async def move_question_up(
    runtime: Runtime, admin: SignedIn, scope: str, ident: str
) -> questionnaires.Version:
    def edit(asked: list[Question]) -> list[Question]:
        index = _position(asked, ident)
        if index > 0:
            asked[index - 1], asked[index] = asked[index], asked[index - 1]
        return asked

    return await _change(runtime, admin, scope, f"moved {ident} up", edit)
