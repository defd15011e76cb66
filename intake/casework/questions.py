"""Questions a reporter is asked beside the free text: their kinds, and the server's check of
each answer against the questionnaire version it was given on. No database here.

A question is stored as JSON in a questionnaire version (intake/casework/questionnaires.py). Its
texts are given per language (``{"en": …, "fr_CA": …}``); a built-in question's texts are
catalog sentences (``"catalog": true``), shown translated in every language the catalogs have.
Every question can be answered "I don't know": choice questions have that choice, the others
take the value :data:`UNKNOWN`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from intake import i18n
from intake.errors import InvalidInput
from intake.i18n import N_, Phrase

UNKNOWN = "unknown"
TEXT_CHARS = 300
LONG_TEXT_CHARS = 4000
MAX_NUMBER = 10**12
_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
_PERIOD = re.compile(r"([0-9]{4})(?:-([0-9]{2}))?")


class Kind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    SINGLE = "single"
    MULTIPLE = "multiple"
    YES_NO = "yes_no"
    DATE = "date"
    PERIOD = "period"
    NUMBER = "number"
    AMOUNT = "amount"


CHOICE_KINDS = frozenset({Kind.SINGLE, Kind.MULTIPLE, Kind.YES_NO})
FREE_TEXT_KINDS = frozenset({Kind.TEXT, Kind.LONG_TEXT})
KIND_NAMES = {
    Kind.TEXT: N_("Short text"),
    Kind.LONG_TEXT: N_("Long text"),
    Kind.SINGLE: N_("One choice"),
    Kind.MULTIPLE: N_("Several choices"),
    Kind.YES_NO: N_("Yes or no"),
    Kind.DATE: N_("A date"),
    Kind.PERIOD: N_("About when (year, and month if known)"),
    Kind.NUMBER: N_("A number"),
    Kind.AMOUNT: N_("An amount of money"),
}
YES_NO_CHOICES = (("yes", N_("Yes")), ("no", N_("No")))
UNKNOWN_LABEL = N_("I don't know")


def text_in(texts: dict[str, str], catalog: bool, locale: str | None = None) -> str:
    """A question's text in the current language: the catalog's translation of a built-in text,
    an administrator's text for this language, or else the English one."""
    english = texts.get(i18n.SOURCE_LOCALE, "")
    if catalog:
        return i18n.gettext(english) if english else ""
    locale = locale or i18n.current_locale()
    return texts.get(locale) or english


@dataclass(frozen=True)
class Choice:
    id: str
    texts: dict[str, str]
    catalog: bool = False

    @property
    def label(self) -> str:
        return text_in(self.texts, self.catalog)


@dataclass(frozen=True)
class Question:
    id: str
    kind: Kind
    texts: dict[str, str]
    help: dict[str, str] = field(default_factory=dict)
    required: bool = False
    choices: tuple[Choice, ...] = ()
    may_identify: bool = False
    statistical: bool = False
    catalog: bool = False

    @property
    def label(self) -> str:
        return text_in(self.texts, self.catalog)

    @property
    def hint(self) -> str:
        return text_in(self.help, self.catalog) if self.help else ""

    @property
    def kind_name(self) -> str:
        return i18n.gettext(KIND_NAMES[self.kind])

    def all_choices(self) -> tuple[Choice, ...]:
        """The choices offered, "I don't know" last."""
        if self.kind == Kind.YES_NO:
            offered = tuple(Choice(ident, {"en": text}, True) for ident, text in YES_NO_CHOICES)
        else:
            offered = self.choices
        return (*offered, Choice(UNKNOWN, {"en": UNKNOWN_LABEL}, True))

    def choice_label(self, ident: str) -> str:
        for choice in self.all_choices():
            if choice.id == ident:
                return choice.label
        return ident

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": str(self.kind),
            "texts": self.texts,
            "help": self.help,
            "required": self.required,
            "may_identify": self.may_identify,
            "statistical": self.statistical,
            "catalog": self.catalog,
        }
        if self.choices:
            data["choices"] = [{"id": item.id, "texts": item.texts} for item in self.choices]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Question:
        catalog = bool(data.get("catalog", False))
        return cls(
            id=data["id"],
            kind=Kind(data["kind"]),
            texts=dict(data["texts"]),
            help=dict(data.get("help") or {}),
            required=bool(data.get("required", False)),
            choices=tuple(
                Choice(item["id"], dict(item["texts"]), catalog) for item in data.get("choices", [])
            ),
            may_identify=bool(data.get("may_identify", False)),
            statistical=bool(data.get("statistical", False)),
            catalog=catalog,
        )


def check_definition(question: Question, taken: set[str]) -> None:
    """Refuse a question an administrator may not save (InvalidInput naming the field)."""
    if not _ID.fullmatch(question.id) or question.id in taken:
        raise InvalidInput(
            N_("A question needs its own short id: lower-case letters, digits and _."),
            field="id",
        )
    if not question.texts.get(i18n.SOURCE_LOCALE, "").strip():
        raise InvalidInput(N_("A question needs its text in English."), field="text_en")
    if question.statistical and question.kind != Kind.SINGLE:
        raise InvalidInput(
            N_("Only a one-choice question can be counted in the statistics."),
            field="statistical",
        )
    if question.kind in (Kind.SINGLE, Kind.MULTIPLE):
        ids = [choice.id for choice in question.choices]
        if not ids or len(set(ids)) != len(ids) or UNKNOWN in ids:
            raise InvalidInput(
                N_("A choice question needs its choices, one a line, each different."),
                field="choices_en",
            )


def _problem(question: Question, problem: Phrase) -> InvalidInput:
    return InvalidInput(
        N_("Question “%(id)s” (%(question)s): %(problem)s"),
        field=f"q-{question.id}",
        id=question.id,
        question=question.label,
        problem=problem,
    )


def check_answer(question: Question, value: Any, *, today: date) -> Any:
    """The answer as it is kept, or None when it was left out; InvalidInput naming the
    question when it is of the wrong kind or shape."""
    if value is None or value == "" or value == []:
        if question.required:
            return _fail(question, Phrase(N_("an answer is needed (“I don't know” is one)."), {}))
        return None
    kind = question.kind
    if kind in CHOICE_KINDS:
        offered = {choice.id for choice in question.all_choices()}
        if kind == Kind.MULTIPLE:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                return _fail(question, Phrase(N_("a list of the choices' ids is expected."), {}))
            if not set(value) <= offered:
                return _fail(question, Phrase(N_("please pick from the listed choices only."), {}))
            if UNKNOWN in value and len(set(value)) > 1:
                return _fail(
                    question, Phrase(N_("“I don't know” cannot go with another choice."), {})
                )
            return sorted(set(value), key=[choice.id for choice in question.all_choices()].index)
        if not isinstance(value, str) or value not in offered:
            return _fail(question, Phrase(N_("please pick one of the listed choices."), {}))
        return value
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return _fail(question, Phrase(N_("a text or number is expected."), {}))
    if value == UNKNOWN:
        return UNKNOWN
    if kind in FREE_TEXT_KINDS:
        limit = TEXT_CHARS if kind == Kind.TEXT else LONG_TEXT_CHARS
        text = str(value)
        if "\x00" in text or len(text) > limit:
            return _fail(question, Phrase(N_("at most %(limit)s characters."), {"limit": limit}))
        return text.strip() or (
            None if not question.required else _fail(question, Phrase(_NEEDED, {}))
        )
    return _checked_value(question, str(value), today=today)


_NEEDED = N_("an answer is needed (“I don't know” is one).")


def _checked_value(question: Question, text: str, *, today: date) -> str:
    kind = question.kind
    text = text.strip()
    if kind == Kind.DATE:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return _fail(question, Phrase(N_("a date is expected, as YYYY-MM-DD."), {}))
        if day > today:
            return _fail(question, Phrase(N_("this date is in the future."), {}))
        return day.isoformat()
    if kind == Kind.PERIOD:
        found = _PERIOD.fullmatch(text)
        month = int(found.group(2)) if found and found.group(2) else None
        if not found or (month is not None and not 1 <= month <= 12):
            return _fail(
                question, Phrase(N_("a year is expected, with its month if known (YYYY-MM)."), {})
            )
        if int(found.group(1)) > today.year or int(found.group(1)) < 1900:
            return _fail(question, Phrase(N_("this year is not one that can be meant."), {}))
        return text
    if kind == Kind.NUMBER:
        digits = _without_spaces(text)
        if not re.fullmatch(r"[0-9]{1,13}", digits) or int(digits) > MAX_NUMBER:
            return _fail(question, Phrase(N_("a whole number is expected."), {}))
        return str(int(digits))
    return _amount(question, text)


def _without_spaces(text: str) -> str:
    """A number as typed, without the spaces that set its thousands apart: a space, a no-break
    space or a narrow no-break space, as French writes "12 500"."""
    return text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")


def _amount(question: Question, text: str) -> str:
    cleaned = _without_spaces(text).replace("$", "")
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d{1,2})?", cleaned):
        cleaned = cleaned.replace(",", "")
    elif re.fullmatch(r"\d+,\d{1,2}", cleaned):  # a French decimal comma
        cleaned = cleaned.replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = Decimal(-1)
    if not re.fullmatch(r"\d+(\.\d{1,2})?", cleaned) or amount < 0 or amount > MAX_NUMBER:
        return _fail(question, Phrase(N_("an amount is expected, such as 12500 or 12500.50."), {}))
    return f"{amount:.2f}"


def _fail(question: Question, problem: Phrase) -> Any:
    raise _problem(question, problem)


def check_answers(
    questions: list[Question], answers: dict[str, Any], *, today: date
) -> tuple[dict[str, Any], list[InvalidInput]]:
    """Every answer checked: those kept (left-out ones dropped), and a problem per question."""
    known = {question.id for question in questions}
    problems: list[InvalidInput] = [
        InvalidInput(
            N_("There is no question “%(id)s” for this category."), field="answers", id=ident
        )
        for ident in answers
        if ident not in known
    ]
    kept: dict[str, Any] = {}
    for question in questions:
        try:
            value = check_answer(question, answers.get(question.id), today=today)
        except InvalidInput as problem:
            problems.append(problem)
            continue
        if value is not None:
            kept[question.id] = value
    return kept, problems


def shown_answer(question: Question, value: Any) -> str:
    """An answer as a person reads it, in the current language."""
    if question.kind in CHOICE_KINDS:
        values = value if isinstance(value, list) else [value]
        return ", ".join(question.choice_label(item) for item in values)
    if value == UNKNOWN:
        return i18n.gettext(UNKNOWN_LABEL)
    return str(value)
