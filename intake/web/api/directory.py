"""Staff API for the recipient directory's pending changes: list, approve, refuse."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake.accounts import change_review
from intake.accounts.change_review import ChangeReview, Person, Standing
from intake.casework import directory_decisions
from intake.config import Settings
from intake.runtime import runtime_of
from intake.web import change_words
from intake.web.staff_auth import current_staff


def _standing(standing: Standing | None) -> dict[str, Any] | None:
    if standing is None:
        return None
    return {
        "group": standing.group,
        "role": standing.role,
        "label": standing.label,
        "active": standing.active,
    }


def _person(person: Person) -> dict[str, str]:
    return {"id": person.id, "name": person.name, "email": person.email}


def review_json(seen: ChangeReview, settings: Settings) -> dict[str, Any]:
    """One pending change as the API answers it."""
    return {
        "id": seen.id,
        "kind": seen.kind,
        "proposed_by": seen.proposed_by,
        "proposed_on": seen.proposed_on.isoformat(),
        "group": seen.group,
        "member": _person(seen.member) if seen.member else None,
        "before": _standing(seen.before),
        "after": _standing(seen.after),
        "keys_change": seen.keys_change,
        "recovery": (
            {"threshold": seen.recovery.threshold, "custodians": list(seen.recovery.custodians)}
            if seen.recovery
            else None
        ),
        "signed_by": [_person(person) for person in seen.signed],
        "needs": {
            "root_only": seen.needs.root_only,
            "count": seen.needs.count,
            "from": [_person(person) for person in seen.needed_people],
            "each_of": [_person(person) for person in seen.named_people],
        },
        "stale": seen.stale,
        "you_may_sign": seen.may_sign,
        "you_may_refuse": seen.may_refuse,
        "summary": [
            *change_words.what_it_does(seen, settings),
            change_words.who_signed(seen),
            *change_words.who_is_needed(seen),
        ],
    }


async def pending(request: Request) -> Response:
    signed_in = await current_staff(request)
    runtime = runtime_of(request)
    async with runtime.sessions() as session:
        reviews = await change_review.pending_reviews(session, runtime, signed_in)
    return JSONResponse({"changes": [review_json(seen, runtime.settings) for seen in reviews]})


async def approve(request: Request) -> Response:
    signed_in = await current_staff(request)
    change_id = request.path_params["id"]
    outcome = await directory_decisions.approve(runtime_of(request), signed_in, change_id)
    return JSONResponse({"id": change_id, "outcome": outcome})


async def refuse(request: Request) -> Response:
    signed_in = await current_staff(request)
    change_id = request.path_params["id"]
    await directory_decisions.refuse(runtime_of(request), signed_in, change_id)
    return JSONResponse({"id": change_id, "outcome": "refused"})


routes = [
    Route("/directory/pending", pending, methods=["GET"]),
    Route("/directory/changes/{id}/approve", approve, methods=["POST"]),
    Route("/directory/changes/{id}/refuse", refuse, methods=["POST"]),
]
