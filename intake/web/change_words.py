"""A pending directory change in plain words, for the clerk asked to approve it.

The person approving a change signs it; they must be able to tell what it does without knowing
what a directory entry is: "Olivia Officer would move from the solicitor's office to the
alternate recipients". The sentences are in the request's language; the values the office chose
(names, exclusion labels, custodian roles) are shown as given.
"""

from __future__ import annotations

from intake import i18n
from intake.accounts.change_review import ChangeReview, Person
from intake.casework.directory_decisions import STALE
from intake.casework.routing import group_display_name
from intake.config import Settings
from intake.i18n import N_
from intake.web.labels import custodian_words, role_phrase

ROLE_EFFECT = {
    "officer": N_(
        "As an intake officer, %(name)s would receive every new report sent to %(group)s."
    ),
    "investigator": N_(
        "As an investigator, %(name)s would open only the cases someone gives them."
    ),
    "admin": N_(
        "As an administrator, %(name)s would manage accounts, and open no case unless someone "
        "gives it to them."
    ),
    "custodian": N_(
        "As an identity custodian, %(name)s would decide officers' requests to open a "
        "confidential reporter's identity, and open no case."
    ),
}


def group_words(settings: Settings, group: str | None) -> str:
    """A group as people read it: the receiving groups by what they are, others by their id."""
    return i18n.gettext(group_display_name(settings, group)) if group else ""


def names(people: tuple[Person, ...]) -> str:
    return ", ".join(person.name for person in people)


def _member_sentences(seen: ChangeReview, settings: Settings) -> list[str]:
    assert seen.after is not None and seen.member is not None
    name, after, before = seen.member.name, seen.after, seen.before
    said: list[str] = []
    new_group = group_words(settings, after.group)
    if before is None:
        said.append(
            i18n.gettext(
                N_("%(name)s (%(email)s) would be added to %(group)s as: %(role)s."),
                {
                    "name": name,
                    "email": seen.member.email,
                    "group": new_group,
                    "role": role_phrase(after.role),
                },
            )
        )
    else:
        if before.active and not after.active:
            said.append(
                i18n.gettext(
                    N_(
                        "%(name)s would be retired: they would receive no new report, and lose "
                        "every case they hold."
                    ),
                    {"name": name},
                )
            )
            return said
        if not before.active and after.active:
            said.append(i18n.gettext(N_("%(name)s would be active again."), {"name": name}))
        if before.group != after.group:
            said.append(
                i18n.gettext(
                    N_("%(name)s would move from %(old)s to %(new)s."),
                    {"name": name, "old": group_words(settings, before.group), "new": new_group},
                )
            )
        if before.role != after.role:
            said.append(
                i18n.gettext(
                    N_("%(name)s's role would change from %(old)s to %(new)s."),
                    {"name": name, "old": role_phrase(before.role), "new": role_phrase(after.role)},
                )
            )
    if after.active and (
        before is None
        or (before.group, before.role, before.active) != (after.group, after.role, after.active)
    ):
        effect = ROLE_EFFECT.get(after.role)
        if effect is not None:
            said.append(i18n.gettext(effect, {"name": name, "group": new_group}))
    said.extend(_label_sentences(seen))
    if before is not None and seen.keys_change:
        said.append(
            i18n.gettext(
                N_(
                    "%(name)s would get new keys, as after a password reset. Approve only if you "
                    "know the reset was asked for: whoever holds these keys reads what is sent "
                    "to %(name)s."
                ),
                {"name": name},
            )
        )
    return said


def _label_sentences(seen: ChangeReview) -> list[str]:
    assert seen.after is not None and seen.member is not None
    name, new = seen.member.name, seen.after.label
    old = seen.before.label if seen.before is not None else None
    if old == new:
        return []
    if old is None:
        return [
            i18n.gettext(
                N_(
                    "Reporters would be able to keep a report from %(name)s by ticking “%(label)s”."
                ),
                {"name": name, "label": new},
            )
        ]
    if new is None:
        return [
            i18n.gettext(
                N_("Reporters could no longer tick “%(label)s” to keep a report from %(name)s."),
                {"name": name, "label": old},
            )
        ]
    return [
        i18n.gettext(
            N_(
                "The name reporters tick to keep a report from %(name)s would change from "
                "“%(old)s” to “%(new)s”."
            ),
            {"name": name, "old": old, "new": new},
        )
    ]


def what_it_does(seen: ChangeReview, settings: Settings) -> list[str]:
    """What approving the change would do, one sentence each."""
    if seen.kind == "member" and seen.after is not None:
        return _member_sentences(seen, settings)
    if seen.kind == "recovery" and seen.recovery is not None:
        return [
            i18n.gettext(
                N_(
                    "A new recovery key would be installed for %(group)s: any %(num)s of these "
                    "custodians, acting together, could open its reports: %(custodians)s."
                ),
                {
                    "group": group_words(settings, seen.group),
                    "num": seen.recovery.threshold,
                    "custodians": custodian_words(seen.recovery.custodians),
                },
            )
        ]
    if seen.kind == "audit":
        return [
            i18n.gettext(
                N_(
                    "The office root would vouch for the key that signs the audit log's "
                    "checkpoints: witnesses and 'quietline audit verify' check checkpoints with it."
                )
            )
        ]
    if seen.kind == "group":
        return [
            i18n.gettext(
                N_("A new group would be declared: %(group)s."),
                {"group": seen.group_declared or seen.group or ""},
            )
        ]
    return [i18n.gettext(N_("This change cannot be read: refuse it."))]


def who_signed(seen: ChangeReview) -> str:
    if not seen.signed:
        return i18n.gettext(N_("Nobody has approved it yet."))
    return i18n.gettext(N_("Approved so far by: %(names)s."), {"names": names(seen.signed)})


def who_is_needed(seen: ChangeReview) -> list[str]:
    """Whom the rule still asks for, by name."""
    if seen.stale:
        return [i18n.gettext(STALE)]
    if seen.needs.root_only:
        return [
            i18n.gettext(
                N_(
                    "Only the office root key's custodians can approve this change, together, "
                    "with the command 'quietline directory approve'."
                )
            )
        ]
    said = []
    if seen.named_people:
        said.append(
            i18n.gettext(
                N_("It needs the approval of %(names)s, who proposed it."),
                {"names": names(seen.named_people)},
            )
        )
    if seen.needs.count:
        said.append(
            i18n.ngettext(
                "It still needs the approval of %(num)s of: %(names)s.",
                "It still needs the approvals of %(num)s of: %(names)s.",
                seen.needs.count,
                {"names": names(seen.needed_people)},
            )
        )
    return said
