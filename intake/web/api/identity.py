"""Confidential identities in the JSON API: an officer's request to open one and what their
case shows of it; an identity custodian's waiting requests and decisions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake.casework import identity_requests
from intake.runtime import runtime_of
from intake.web.api.parsing import StrictBody, read_json
from intake.web.staff_auth import current_staff


class ReasonIn(StrictBody):
    reason: str


async def case_identity(request: Request) -> Response:
    signed_in = await current_staff(request)
    seen = await identity_requests.for_holder(
        runtime_of(request), signed_in, request.path_params["ref"]
    )
    opened: dict[str, Any] | None = None
    if seen.opened is not None:
        opened = {"name": seen.opened.name, "contact": seen.opened.contact}
    return JSONResponse(
        {
            "given_on": seen.given_on.isoformat() if seen.given_on else None,
            "withdrawn_on": seen.withdrawn_on.isoformat() if seen.withdrawn_on else None,
            "identity": opened,
            "requests": [
                {
                    "status": asked.status,
                    "requested_on": asked.requested_on.isoformat(),
                    "decided_on": asked.decided_on.isoformat() if asked.decided_on else None,
                    "reason": asked.reason,
                }
                for asked in seen.requests
            ],
        }
    )


async def case_identity_request(request: Request) -> Response:
    signed_in = await current_staff(request)
    sent = await read_json(request, ReasonIn)
    request_id = await identity_requests.request(
        runtime_of(request), signed_in, request.path_params["ref"], sent.reason
    )
    return JSONResponse({"request": request_id, "status": "pending"}, status_code=201)


async def waiting(request: Request) -> Response:
    signed_in = await current_staff(request)
    found = await identity_requests.waiting_for(runtime_of(request), signed_in)
    return JSONResponse(
        {
            "requests": [
                {
                    "id": asked.id,
                    "case": asked.ref,
                    "requester_role": asked.requester_role,
                    "requested_on": asked.requested_on.isoformat(),
                    "reason": asked.reason,
                }
                for asked in found
            ]
        }
    )


async def _decide(request: Request, *, approve: bool) -> Response:
    signed_in = await current_staff(request)
    ref = await identity_requests.decide(
        runtime_of(request), signed_in, request.path_params["id"], approve=approve
    )
    return JSONResponse({"case": ref, "status": "approved" if approve else "refused"})


async def approve(request: Request) -> Response:
    return await _decide(request, approve=True)


async def refuse(request: Request) -> Response:
    return await _decide(request, approve=False)


routes = [
    Route("/cases/{ref}/identity", case_identity, methods=["GET"]),
    Route("/cases/{ref}/identity/requests", case_identity_request, methods=["POST"]),
    Route("/identity/requests", waiting, methods=["GET"]),
    Route("/identity/requests/{id}/approve", approve, methods=["POST"]),
    Route("/identity/requests/{id}/refuse", refuse, methods=["POST"]),
]
