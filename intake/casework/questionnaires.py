"""Questionnaires: the questions asked for each category and for every category, kept as
versions that are never changed (a change is a new version), so that a report's answers always
show with the questions as they were asked; the answers encrypted with the case's key; the
yearly counts of statistical answers.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import crypto
from intake.attachments.staging import CaseKey
from intake.casework import questions as q
from intake.casework.builtin_questions import BUILTIN, EVERY_CATEGORY
from intake.errors import InvalidInput
from intake.i18n import N_
from intake.operations import audit
from intake.per_runtime import PerRuntime
from intake.runtime import Runtime
from intake.storage.models import AnswerCount, CaseAnswers, QuestionnaireVersion

ANSWERS_FIELD = "answers"
ANSWERS_PADDED = 256
_COUNT_TABLE = AnswerCount.__table__  # type: ignore[attr-defined]
_ANSWERS_TABLE = CaseAnswers.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Version:
    id: str
    scope: str
    number: int
    questions: tuple[q.Question, ...]

    @classmethod
    def of(cls, row: QuestionnaireVersion) -> Version:
        known = _KNOWN.get(row.id)
        if known is not None:
            return known
        version = cls(
            id=row.id,
            scope=row.scope,
            number=row.number,
            questions=tuple(q.Question.from_json(item) for item in json.loads(row.questions)),
        )
        if len(_KNOWN) >= _KNOWN_LIMIT:
            _KNOWN.clear()
        _KNOWN[row.id] = version
        return version


# A version never changes and its id is random: once read, it is kept by id (a bounded number),
# so a report's questions are not read and parsed again for every report.
_KNOWN: dict[str, Version] = {}
_KNOWN_LIMIT = 512
# Which versions are current, as this process last read them, per runtime: every report filed
# without naming its versions (the API) is checked against them. Read again after
# CURRENT_FRESH_FOR seconds, and at once after this process saves a version; a report records
# the versions it was checked on, so one filed in the seconds after another process saved a
# version is still shown with the questions it was asked.
CURRENT_FRESH_FOR = 5.0
_current: PerRuntime[dict[str, Version]] = PerRuntime(CURRENT_FRESH_FOR)


@dataclass(frozen=True)
class Asked:
    """The questions asked for one category: its own version, then the common one."""

    versions: tuple[Version, ...]

    @property
    def questions(self) -> list[q.Question]:
        return [question for version in self.versions for question in version.questions]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(version.id for version in self.versions)


async def seed_builtin(session: AsyncSession, categories: Iterable[str], *, today: date) -> int:
    """The built-in questionnaires, as version 1, for a database that has none yet."""
    if (await session.exec(select(QuestionnaireVersion.id))).first() is not None:
        return 0
    scopes = [scope for scope in (*categories, EVERY_CATEGORY) if scope in BUILTIN]
    for scope in scopes:
        session.add(_row(scope, 1, BUILTIN[scope], today))
    _current.forget()
    return len(scopes)


def _row(scope: str, number: int, asked: Sequence[q.Question], today: date) -> QuestionnaireVersion:
    return QuestionnaireVersion(
        scope=scope,
        number=number,
        questions=json.dumps([question.to_json() for question in asked]),
        made_on=today,
    )


async def current(session: AsyncSession) -> dict[str, Version]:
    """The newest version of each scope (a category id, or ``*``)."""
    newest = (
        select(QuestionnaireVersion.scope, func.max(QuestionnaireVersion.number).label("number"))
        .group_by(col(QuestionnaireVersion.scope))
        .subquery()
    )
    rows = await session.exec(
        select(QuestionnaireVersion).join(
            newest,
            (col(QuestionnaireVersion.scope) == newest.c.scope)
            & (col(QuestionnaireVersion.number) == newest.c.number),
        )
    )
    return {row.scope: Version.of(row) for row in rows.all()}


async def current_for(runtime: Runtime) -> dict[str, Version]:
    """:func:`current`, read at most every :data:`CURRENT_FRESH_FOR` seconds by this process."""
    found = _current.fresh(runtime)
    if found is not None:
        return found
    async with runtime.sessions() as session:
        versions = await current(session)
    _current.remember(runtime, versions)
    return versions


def asked_for(versions: dict[str, Version], category: str) -> Asked:
    return Asked(
        tuple(versions[scope] for scope in (category, EVERY_CATEGORY) if scope in versions)
    )


async def by_ids(session: AsyncSession, ids: Sequence[str]) -> list[Version]:
    if not ids:
        return []
    if all(ident in _KNOWN for ident in ids):
        return [_KNOWN[ident] for ident in ids]
    rows = await session.exec(
        select(QuestionnaireVersion).where(col(QuestionnaireVersion.id).in_(list(ids)))
    )
    found = {row.id: Version.of(row) for row in rows.all()}
    return [found[ident] for ident in ids if ident in found]


async def asked_on(
    session: AsyncSession, category: str, version_ids: Sequence[str] | None
) -> Asked:
    """The questions a report was answered on: the versions its form named (checked to be of
    its category or the common set), or else the current ones."""
    if not version_ids:
        return asked_for(await current(session), category)
    versions = await by_ids(session, version_ids)
    if len(versions) != len(set(version_ids)) or any(
        version.scope not in (category, EVERY_CATEGORY) for version in versions
    ):
        raise InvalidInput(
            N_(
                "The questions of this form are not those of the category chosen. Please go "
                "back and choose it again."
            ),
            field="category",
        )
    return Asked(tuple(versions))


# --- answers -------------------------------------------------------------------------------


def encrypt_answers(data_key: bytes, case_id: str, answers: dict[str, Any]) -> bytes:
    """The answers, padded to a multiple of 256 bytes (so their length tells little of what was
    answered) and encrypted with the case's first key, bound to the case and the field."""
    plain = json.dumps(answers, ensure_ascii=False, sort_keys=True).encode()
    size = max(1, -(-len(plain) // ANSWERS_PADDED)) * ANSWERS_PADDED
    return crypto.encrypt_field(
        data_key, plain.ljust(size, b" "), case_id=case_id, field=ANSWERS_FIELD
    )


@dataclass(frozen=True)
class PreparedAnswers:
    """A report's answers, checked and encrypted, ready for the filing's transaction."""

    row: dict[str, Any] = field(repr=False)
    counted: list[tuple[str, str]]
    year: int


async def prepare(
    runtime: Runtime,
    category: str,
    answers: dict[str, Any],
    version_ids: Sequence[str],
    *,
    case_key: CaseKey,
) -> PreparedAnswers | None:
    """The answers checked against the questions they were given on (the first problem is
    raised, naming its question) and encrypted for the case; None when nothing is asked."""
    if not version_ids:
        asked = asked_for(await current_for(runtime), category)
    else:
        async with runtime.sessions() as session:
            asked = await asked_on(session, category, version_ids)
    kept, problems = q.check_answers(asked.questions, answers, today=runtime.today())
    if problems:
        raise problems[0]
    if not asked.versions:
        return None
    return PreparedAnswers(
        row={
            "case_id": case_key.case_id,
            "versions": json.dumps(list(asked.ids)),
            "answers": encrypt_answers(case_key.data_key, case_key.case_id, kept),
        },
        counted=statistical_choices(asked, kept),
        year=runtime.today().year,
    )


async def write(connection: AsyncConnection, prepared: Sequence[PreparedAnswers]) -> None:
    """Store the answers of reports written together, and add their statistical choices to
    the year's counts."""
    if not prepared:
        return
    await connection.execute(insert(_ANSWERS_TABLE), [item.row for item in prepared])
    for year in sorted({item.year for item in prepared}):
        await count_answers(
            connection,
            year,
            [pair for item in prepared if item.year == year for pair in item.counted],
        )


@dataclass(frozen=True)
class ShownAnswer:
    question: str
    answer: str
    may_identify: bool


async def read_answers(
    session: AsyncSession, keys: crypto.KeyEpochs, case_id: str
) -> list[ShownAnswer]:
    """A case's answers with the questions as they were asked, in the reader's language."""
    row = await session.get(CaseAnswers, case_id)
    if row is None:
        return []
    plain = crypto.decrypt_field(
        keys.of(crypto.FIRST_EPOCH), row.answers, case_id=case_id, field=ANSWERS_FIELD
    )
    answers = json.loads(plain)
    shown = []
    for version in await by_ids(session, json.loads(row.versions)):
        for question in version.questions:
            if question.id in answers:
                shown.append(
                    ShownAnswer(
                        question=question.label,
                        answer=q.shown_answer(question, answers[question.id]),
                        may_identify=question.may_identify,
                    )
                )
    return shown


def statistical_choices(asked: Asked, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """The (``scope:question``, choice) pairs a report adds to the year's counts."""
    return [
        (f"{version.scope}:{question.id}", answers[question.id])
        for version in asked.versions
        for question in version.questions
        if question.statistical and question.id in answers
    ]


def _count_upsert(dialect_name: str) -> Any:
    """Add a row's count to the year's stored count, or store it: one statement per dialect,
    built once, so every batch of reports runs the same compiled statement (a statement with
    the batch's pairs written into it would be compiled anew for every batch)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(_COUNT_TABLE)
    return statement.on_conflict_do_update(
        index_elements=["year", "question", "choice"],
        set_={"count": _COUNT_TABLE.c.count + statement.excluded.count},
    )


_COUNT_UPSERTS = {name: _count_upsert(name) for name in ("postgresql", "sqlite")}


async def count_answers(
    connection: AsyncConnection, year: int, pairs: Iterable[tuple[str, str]]
) -> None:
    """Add statistical answers to the year's counts (in the filing's transaction)."""
    counted = Counter(pairs)
    if not counted:
        return
    await connection.execute(
        _COUNT_UPSERTS[connection.dialect.name],
        [
            {"year": year, "question": question, "choice": choice, "count": number}
            for (question, choice), number in sorted(counted.items())
        ],
    )


async def year_counts(session: AsyncSession, year: int) -> dict[str, dict[str, int]]:
    rows = await session.exec(select(AnswerCount).where(AnswerCount.year == year))
    counts: dict[str, dict[str, int]] = {}
    for row in rows.all():
        counts.setdefault(row.question, {})[row.choice] = row.count
    return counts


async def statistical_labels(session: AsyncSession) -> dict[str, tuple[str, dict[str, str]]]:
    """For every statistical question ever asked ("scope:question"), its text and its choices'
    labels in the reader's language, from its newest version."""
    rows = await session.exec(
        select(QuestionnaireVersion).order_by(col(QuestionnaireVersion.number))
    )
    labels: dict[str, tuple[str, dict[str, str]]] = {}
    for row in rows.all():
        version = Version.of(row)
        for question in version.questions:
            if question.statistical:
                labels[f"{version.scope}:{question.id}"] = (
                    question.label,
                    {choice.id: choice.label for choice in question.all_choices()},
                )
    return labels


# --- administration ------------------------------------------------------------------------


async def save_version(
    session: AsyncSession,
    scope: str,
    asked: Sequence[q.Question],
    *,
    actor: str,
    today: date,
    change: str,
) -> Version:
    """A new version of a scope's questions, audited (inside the caller's transaction)."""
    taken: set[str] = set()
    for question in asked:
        q.check_definition(question, taken)
        taken.add(question.id)
    latest = (
        await session.exec(
            select(func.max(QuestionnaireVersion.number)).where(QuestionnaireVersion.scope == scope)
        )
    ).one()
    row = _row(scope, (latest or 0) + 1, asked, today)
    session.add(row)
    await session.flush()
    _current.forget()  # this process reads the current versions again
    await audit.record(
        session,
        actor=actor,
        action="admin.questionnaire",
        detail={"scope": scope, "version": row.number, "change": change},
    )
    return Version.of(row)
