"""Audit events as people read them: every kind named, every stored action a sentence, and only
the whitelisted facts of an event's detail ever shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from intake import i18n
from intake.operations.audit_facts import KINDS, facts_of
from intake.operations.audit_read import Event
from intake.web import audit_labels

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _event(action: str, detail: dict[str, object] | None = None) -> Event:
    return Event(
        at=AT,
        actor="officer1@example.org",
        action=action,
        case_ref=None,
        facts=facts_of(action, json.dumps(detail or {})),
    )


def test_every_kind_has_a_name_and_every_action_a_sentence_in_both_languages() -> None:
    assert set(audit_labels.KIND_LABELS) == set(KINDS)
    for actions in KINDS.values():
        for action in actions:
            english = audit_labels.describe(_event(action))
            assert english != action and "%(" not in english, action
            i18n.use_locale("fr_CA")
            try:
                assert audit_labels.describe(_event(action)) != english, action
            finally:
                i18n.use_locale(i18n.SOURCE_LOCALE)


def test_only_whitelisted_facts_are_shown() -> None:
    reset = _event("admin.staff_reset", {"email": "clerk@example.org", "cases_lost": 7})
    assert reset.facts == {"person": "clerk@example.org"}
    checked = _event("recovery key checked", {"matched": True, "opened": 41})
    assert checked.facts == {"matched": "yes"}
    assert facts_of("case.stage", "not json") == {} and facts_of("case.stage", "[1]") == {}
    assert _event("case.grant", {"to": {"email": "x"}}).facts == {}


def test_an_unknown_action_is_shown_by_its_name_and_cells_never_run_as_formulas() -> None:
    assert audit_labels.describe(_event("audit.checkpoint")) == "audit.checkpoint"
    formula = audit_labels.to_csv(
        [Event(at=AT, actor="=cmd|' /C calc'!A0", action="staff.sign_in", case_ref=None)]
    )
    assert "'=cmd" in formula


def test_every_action_the_code_records_is_in_a_kind() -> None:
    """An action recorded anywhere in the service (``action="..."`` in a call of
    ``audit.record``) is one the audit page can name and filter, so none shows as its raw id."""
    import ast
    from pathlib import Path

    import intake

    known = {action for actions in KINDS.values() for action in actions}
    recorded = set()
    for path in Path(intake.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "record"):
                continue
            for keyword in node.keywords:
                if keyword.arg == "action" and isinstance(keyword.value, ast.Constant):
                    recorded.add(keyword.value.value)
    assert recorded and recorded - known == set()


def test_an_export_says_its_format_and_a_recovered_one_says_so() -> None:
    pdf = _event("case.export", {"by": "staff key", "format": "pdf"})
    assert pdf.facts == {"by": "staff key", "format": "pdf"}
    assert audit_labels.describe(pdf) == "Exported the case (PDF)"
    recovered = _event(
        "case.export",
        {"by": "recovery shares", "group": "solicitor", "reason": None, "format": "html"},
    )
    assert audit_labels.describe(recovered) == "Exported the case with the recovery key (HTML)"
    assert audit_labels.describe(_event("case.export", {"by": "staff key"})) == "Exported the case"
    i18n.use_locale("fr_CA")
    try:
        assert audit_labels.describe(pdf) == "A exporté le dossier (PDF)"
    finally:
        i18n.use_locale(i18n.SOURCE_LOCALE)
