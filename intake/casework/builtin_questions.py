"""The questions a new instance asks, written for a city: a few for every category, and a few
for each built-in category. Every question must earn its place; "I don't know" is always an
answer. Administrators change them on the questionnaires page (the texts here are catalog
sentences, translated wherever a catalog has them)."""

from __future__ import annotations

from intake.casework.questions import Choice, Kind, Question
from intake.i18n import N_

EVERY_CATEGORY = "*"


def _q(
    ident: str,
    kind: Kind,
    text: str,
    *,
    hint: str = "",
    choices: tuple[tuple[str, str], ...] = (),
    may_identify: bool = False,
    statistical: bool = False,
) -> Question:
    return Question(
        id=ident,
        kind=kind,
        texts={"en": text},
        help={"en": hint} if hint else {},
        choices=tuple(Choice(key, {"en": label}, True) for key, label in choices),
        may_identify=may_identify,
        statistical=statistical,
        catalog=True,
    )


_DEPARTMENT = N_("Which department or office is involved?")
_STILL_GOING = N_("Is it still going on?")

BUILTIN: dict[str, tuple[Question, ...]] = {
    "financial": (
        _q("department", Kind.TEXT, _DEPARTMENT),
        _q(
            "contract",
            Kind.TEXT,
            N_("The contract or purchase-order number, if you know it"),
            hint=N_("It helps the office find the records quickly."),
        ),
        _q(
            "amount",
            Kind.AMOUNT,
            N_("About how much money is involved?"),
            hint=N_("In dollars. An estimate is fine."),
        ),
        _q("vendor", Kind.TEXT, N_("Which vendor or company, if any?")),
        _q(
            "approved_by",
            Kind.SINGLE,
            N_("Who signed or approved it?"),
            choices=(
                ("manager", N_("A manager or supervisor")),
                ("director", N_("A director or department head")),
                ("elected", N_("An elected official")),
                ("employee", N_("An employee")),
            ),
        ),
        _q(
            "misuse",
            Kind.SINGLE,
            N_("What kind of misuse is it?"),
            choices=(
                ("split", N_("Purchases split to stay under a signing limit")),
                ("no_authority", N_("Signed by someone without the authority to sign")),
                ("conflict", N_("A conflict of interest")),
                ("not_delivered", N_("Paid for work or goods never delivered")),
                ("other", N_("Something else")),
            ),
            statistical=True,
        ),
    ),
    "social-media": (
        _q(
            "account",
            Kind.TEXT,
            N_("Which account?"),
            hint=N_("Its name or address, such as @CityOfExample."),
        ),
        _q(
            "what_happened",
            Kind.MULTIPLE,
            N_("What happened? Tick all that apply."),
            choices=(
                ("shared_password", N_("The password is shared or kept where others can use it")),
                ("outside_access", N_("Someone who is not on city staff can use the account")),
                ("posts", N_("Posts that should not have been made")),
                ("deletion", N_("Posts, comments or messages deleted")),
                ("other", N_("Something else")),
            ),
        ),
        _q("still_going", Kind.YES_NO, _STILL_GOING),
    ),
    "conduct": (
        _q("department", Kind.TEXT, _DEPARTMENT),
        _q(
            "who",
            Kind.SINGLE,
            N_("Whose conduct is it about?"),
            choices=(
                ("manager", N_("A manager or supervisor")),
                ("elected", N_("An elected official")),
                ("employee", N_("An employee")),
                ("contractor", N_("A contractor or supplier")),
            ),
            statistical=True,
        ),
        _q("still_going", Kind.YES_NO, _STILL_GOING),
    ),
    "safety": (
        _q(
            "place",
            Kind.TEXT,
            N_("Where is it?"),
            hint=N_("A building, street or site."),
        ),
        _q(
            "risk",
            Kind.SINGLE,
            N_("Is anyone at risk now?"),
            hint=N_("If someone is in danger right now, call 911 first."),
            choices=(
                ("now", N_("Yes, now")),
                ("soon", N_("It could happen soon")),
                ("over", N_("No, it is over")),
            ),
            statistical=True,
        ),
    ),
    "reprisal": (
        _q(
            "measures",
            Kind.MULTIPLE,
            N_("What was done to you? Tick all that apply."),
            choices=(
                ("dismissal", N_("Dismissal or suspension")),
                ("demotion", N_("Demotion, lost pay or lost duties")),
                ("harassment", N_("Harassment or threats")),
                ("evaluation", N_("A poor evaluation or a warning")),
                ("other", N_("Something else")),
            ),
            may_identify=True,
        ),
        _q(
            "reported_on",
            Kind.DATE,
            N_("When did you report the first concern, if you know the day?"),
            may_identify=True,
        ),
    ),
    EVERY_CATEGORY: (
        _q(
            "when",
            Kind.PERIOD,
            N_("About when did it happen, or start?"),
            hint=N_("A year is enough; add the month if you know it."),
        ),
        _q("before", Kind.YES_NO, N_("Has it happened before?")),
        _q(
            "evidence",
            Kind.LONG_TEXT,
            N_("What evidence exists, and where is it kept?"),
            hint=N_(
                "For example emails, invoices, posts or photos. Say where they are; do not "
                "take anything you are not allowed to."
            ),
            may_identify=True,
        ),
        _q(
            "others_know",
            Kind.MULTIPLE,
            N_("Who else knows about it? Tick all that apply."),
            choices=(
                ("nobody", N_("Nobody else, as far as I know")),
                ("coworkers", N_("Coworkers")),
                ("manager", N_("A manager or supervisor")),
                ("outside", N_("Someone outside the city")),
            ),
            may_identify=True,
        ),
    ),
}
