"""The audit log's vocabulary for readers: the kinds of event a reader filters by, and the facts
an event shows of its stored detail.

What an event shows is a whitelist of its detail: names, stages and choices, never a count of
cases (a count would include cases the reader cannot open) and never anything a person wrote,
which the log does not hold in any case. Who may see an event at all is
``intake.operations.audit_read``'s concern.
"""

from __future__ import annotations

import json
from typing import Any

#: Kinds of event a reader filters by, each the stored actions it covers. Older instances wrote
#: some actions as phrases ("directory change approved"); they are kept as stored.
KINDS: dict[str, tuple[str, ...]] = {
    "case.view": ("case.view",),
    "attachment.download": ("attachment.download",),
    "case.export": ("case.export",),
    "case.message": ("case.message",),
    "case.note": ("case.note",),
    "case.stage": ("case.stage",),
    "case.grant": ("case.grant",),
    "case.revoke": ("case.revoke",),
    "case.assign": ("case.assign",),
    "case.legal_hold": ("case.legal_hold", "case.legal_hold_released"),
    "case.recorded": ("case.recorded",),
    "case.purged": ("case.purged",),
    "identity": ("identity.requested", "identity.approved", "identity.refused"),
    "staff.sign_in": ("staff.sign_in",),
    "staff.sign_in_failed": ("staff.sign_in_failed",),
    "staff.sign_out": ("staff.sign_out",),
    "staff.password": ("staff.password_changed", "staff.password_change_failed"),
    "staff.notify": ("staff.notify",),
    "staff.search": ("staff.search",),
    "admin.staff": (
        "admin.staff_add",
        "admin.staff_update",
        "admin.staff_enable",
        "admin.staff_disable",
        "admin.staff_reset",
    ),
    "admin.settings": (
        "admin.category_add",
        "admin.category_update",
        "admin.deadlines",
        "admin.identity",
        "admin.questionnaire",
    ),
    "directory": (
        "directory change approved",
        "directory change proposed",
        "directory genesis installed",
        "directory.approve",
        "directory.refuse",
    ),
    "keys": ("recovery key installed", "recovery key checked"),
    "backup": ("operations.backup", "operations.restore"),
    "audit.export": ("audit.export",),
}
_KIND_OF = {action: kind for kind, actions in KINDS.items() for action in actions}


def kind_of(action: str) -> str:
    """The kind an action belongs to (an action of no known kind is its own kind)."""
    return _KIND_OF.get(action, action)


# What an event shows of its detail, by action: (name shown, key in the stored detail).
_FACTS: dict[str, tuple[tuple[str, str], ...]] = {
    "case.stage": (
        ("from", "from"),
        ("to", "to"),
        ("outcome", "outcome"),
        ("reporter_told", "reporter_told"),
    ),
    "case.grant": (("person", "to"),),
    "case.revoke": (("person", "from"),),
    "case.assign": (("person", "to"),),
    "case.export": (("by", "by"), ("format", "format")),
    "identity.requested": (("role", "role"),),
    "identity.approved": (("role", "role"),),
    "identity.refused": (("role", "role"),),
    "case.recorded": (("channel", "channel"), ("case_kind", "kind")),
    "staff.sign_in_failed": (("reason", "reason"), ("locked_minutes", "locked_minutes")),
    "staff.password_change_failed": (("reason", "reason"), ("locked_minutes", "locked_minutes")),
    "staff.notify": (("person", "staff"), ("mode", "mode")),
    "admin.staff_add": (
        ("person", "email"),
        ("role", "role"),
        ("group", "group"),
        ("directory_change", "directory_change"),
    ),
    "admin.staff_update": (("person", "email"),),
    "admin.staff_enable": (("person", "email"),),
    "admin.staff_disable": (("person", "email"),),
    "admin.staff_reset": (("person", "email"),),
    "admin.category_add": (("category", "id"),),
    "admin.category_update": (("category", "id"), ("active", "active")),
    "admin.identity": (("changed", "changed"),),
    "admin.questionnaire": (("category", "scope"), ("change", "change"), ("version", "version")),
    "directory change approved": (("change", "change"), ("outcome", "outcome")),
    "directory change proposed": (("change", "change"),),
    "directory.approve": (("change", "change"), ("outcome", "outcome")),
    "directory.refuse": (("change", "change"),),
    "recovery key checked": (("matched", "matched"),),
    "operations.backup": (("engine", "engine"), ("secrets", "server_secrets")),
    "operations.restore": (("engine", "engine"), ("schema", "schema_revision")),
    "audit.export": (
        ("format", "format"),
        ("actor", "actor"),
        ("kind", "kind"),
        ("since", "since"),
        ("until", "until"),
    ),
}
_MAX_FACT = 254


def _fact(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)[:_MAX_FACT]


def facts_of(action: str, detail: str) -> dict[str, str]:
    """The parts of an event's detail a reader is shown (see the module's docstring)."""
    wanted = _FACTS.get(action)
    if not wanted:
        return {}
    try:
        stored = json.loads(detail)
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    shown = {name: _fact(stored.get(key)) for name, key in wanted}
    return {name: value for name, value in shown.items() if value is not None}
