"""Each kind of question takes its own shape of answer, "I don't know" always, and refuses
the rest with a message naming the question (intake/casework/questions.py)."""

from __future__ import annotations

from datetime import date

import pytest

from intake.casework.questions import (
    UNKNOWN,
    Choice,
    Kind,
    Question,
    check_answer,
    check_answers,
    check_definition,
)
from intake.errors import InvalidInput

TODAY = date(2026, 12, 6)
CHOICES = (Choice("red", {"en": "Red"}), Choice("blue", {"en": "Blue"}))


def _q(kind: Kind, **options: object) -> Question:
    return Question(id="q", kind=kind, texts={"en": "The question?"}, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "given", "kept"),
    [
        (Kind.TEXT, "  Depot 4 ", "Depot 4"),
        (Kind.LONG_TEXT, "line\nline", "line\nline"),
        (Kind.SINGLE, "blue", "blue"),
        (Kind.MULTIPLE, ["blue", "red", "blue"], ["red", "blue"]),
        (Kind.YES_NO, "no", "no"),
        (Kind.DATE, "2026-11-02", "2026-11-02"),
        (Kind.PERIOD, "2025", "2025"),
        (Kind.PERIOD, "2025-03", "2025-03"),
        (Kind.NUMBER, "3", "3"),
        (Kind.NUMBER, 12, "12"),
        # Thousands apart, as French writes them (a space, a no-break space or a narrow one).
        (Kind.NUMBER, "1 000", "1000"),
        (Kind.NUMBER, "12\u00a0500", "12500"),
        (Kind.NUMBER, "12\u202f500", "12500"),
        (Kind.AMOUNT, "12 500,50", "12500.50"),
        (Kind.AMOUNT, "12\u202f500,50", "12500.50"),
        (Kind.AMOUNT, "$12,500.5", "12500.50"),
        (Kind.AMOUNT, "48500", "48500.00"),
    ],
)
def test_each_kind_keeps_its_answer(kind: Kind, given: object, kept: object) -> None:
    assert check_answer(_q(kind, choices=CHOICES), given, today=TODAY) == kept


@pytest.mark.parametrize(
    ("kind", "given"),
    [
        (Kind.TEXT, "x" * 301),
        (Kind.TEXT, ["a list"]),
        (Kind.SINGLE, "green"),
        (Kind.SINGLE, ["blue"]),
        (Kind.MULTIPLE, "blue"),
        (Kind.MULTIPLE, ["blue", UNKNOWN]),
        (Kind.YES_NO, "perhaps"),
        (Kind.DATE, "02/11/2026"),
        (Kind.DATE, "2027-01-01"),
        (Kind.PERIOD, "2025-13"),
        (Kind.PERIOD, "2031"),
        (Kind.NUMBER, "three"),
        (Kind.NUMBER, "-3"),
        (Kind.NUMBER, True),
        (Kind.NUMBER, "٣٣"),  # other scripts' digits are refused, as in a date
        (Kind.NUMBER, "²"),
        (Kind.PERIOD, "٢٠٢٠"),
        (Kind.AMOUNT, "lots"),
        (Kind.AMOUNT, "1.234"),
    ],
)
def test_a_wrong_answer_names_the_question(kind: Kind, given: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_answer(_q(kind, choices=CHOICES), given, today=TODAY)
    assert refused.value.field == "q-q"
    assert str(refused.value).startswith("Question “q” (The question?): ")


def test_i_dont_know_is_always_an_answer_and_a_required_one_is_needed() -> None:
    for kind in Kind:
        question = _q(kind, choices=CHOICES, required=True)
        answer = [UNKNOWN] if kind == Kind.MULTIPLE else UNKNOWN
        assert check_answer(question, answer, today=TODAY) == answer
        with pytest.raises(InvalidInput):
            check_answer(question, None, today=TODAY)
    kept, problems = check_answers([_q(Kind.TEXT)], {"q": "", "other": "x"}, today=TODAY)
    assert kept == {} and [problem.field for problem in problems] == ["answers"]


def test_only_a_one_choice_question_is_statistical() -> None:
    check_definition(_q(Kind.SINGLE, choices=CHOICES, statistical=True), set())
    for kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.MULTIPLE, Kind.NUMBER):
        with pytest.raises(InvalidInput, match="one-choice"):
            check_definition(_q(kind, choices=CHOICES, statistical=True), set())
    with pytest.raises(InvalidInput, match="own short id"):
        check_definition(_q(Kind.TEXT), {"q"})
