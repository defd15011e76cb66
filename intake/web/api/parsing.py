"""Reading JSON request bodies into validated models, with errors a person can act on."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request

from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_, Listing, Phrase

Model = TypeVar("Model", bound=BaseModel)


class StrictBody(BaseModel):
    """A request body of the JSON API: a field the model does not name is refused, not
    ignored, so a misspelt option never passes silently."""

    model_config = ConfigDict(extra="forbid")


class MalformedRequest(QuietlineError):
    status = 400


# What each kind of validation problem says, by pydantic's error type. ``%(field)s`` is where
# in the body it is (``body``, ``category``, ``attachments.0``); the other parameters come from
# pydantic's own context of the error (a limit, the accepted values).
PROBLEMS = {
    "missing": N_("%(field)s: this field is required"),
    "extra_forbidden": N_("%(field)s: this field is not expected"),
    "string_type": N_("%(field)s: text is expected"),
    "int_type": N_("%(field)s: a whole number is expected"),
    "int_parsing": N_("%(field)s: a whole number is expected"),
    "bool_type": N_("%(field)s: true or false is expected"),
    "list_type": N_("%(field)s: a list is expected"),
    "dict_type": N_("%(field)s: an object is expected"),
    "model_type": N_("%(field)s: an object is expected"),
    "model_attributes_type": N_("%(field)s: an object is expected"),
    "string_too_short": N_("%(field)s: at least %(min_length)s characters are expected"),
    "string_too_long": N_("%(field)s: at most %(max_length)s characters are allowed"),
    "too_short": N_("%(field)s: at least %(min_length)s items are expected"),
    "too_long": N_("%(field)s: at most %(max_length)s items are allowed"),
    "literal_error": N_("%(field)s: one of %(expected)s is expected"),
    "enum": N_("%(field)s: one of %(expected)s is expected"),
    "greater_than_equal": N_("%(field)s: at least %(ge)s is expected"),
    "less_than_equal": N_("%(field)s: at most %(le)s is allowed"),
}
OTHER_PROBLEM = N_("%(field)s: this value is not accepted")


def problem(item: dict[str, object]) -> Phrase:
    """One validation problem as a marked phrase, translated when the error is shown."""
    location = item.get("loc")
    parts = location if isinstance(location, tuple) else ()
    where = ".".join(str(part) for part in parts) or "body"
    context = item.get("ctx")
    params: dict[str, object] = {"field": where}
    if isinstance(context, dict):
        params.update({name: str(value) for name, value in context.items()})
    phrase = Phrase(PROBLEMS.get(str(item.get("type")), OTHER_PROBLEM), params)
    try:
        phrase.localized("en")
    except (KeyError, TypeError, ValueError):
        return Phrase(OTHER_PROBLEM, {"field": where})
    return phrase


def invalid_request(error: ValidationError) -> InvalidInput:
    """A 422 naming every problem of a body that did not validate."""
    problems = [
        problem(dict(item)) for item in error.errors(include_url=False, include_input=False)
    ]
    return InvalidInput(N_("Invalid request: %(problems)s."), problems=Listing(problems))


MAX_JSON_DEPTH = 64
"""How many objects and lists a JSON document may nest. No body of the API needs more than a
few; a document nested a thousand deep would otherwise exhaust the parser's recursion (a 500)
or cost the validator a walk for nothing."""


class TooDeeplyNested(ValueError):
    """A JSON document nests more than :data:`MAX_JSON_DEPTH` objects and lists."""


def load_json(raw: str | bytes) -> object:
    """``json.loads``, refusing a document nested beyond :data:`MAX_JSON_DEPTH`.

    Raises :class:`TooDeeplyNested` for that (a subclass of ``ValueError``, so check it first),
    ``UnicodeDecodeError`` or ``ValueError`` for a document that is not JSON.
    """
    try:
        data = json.loads(raw)
    except RecursionError:
        raise TooDeeplyNested() from None
    if nested_deeper_than(data, MAX_JSON_DEPTH):
        raise TooDeeplyNested()
    return data


def nested_deeper_than(data: object, limit: int) -> bool:
    """Whether ``data`` (parsed JSON) nests more than ``limit`` objects and lists; iterative, so
    any depth the parser accepted is measured without recursion."""
    if not isinstance(data, (dict, list)):
        return False
    pending: list[tuple[dict[str, object] | list[object], int]] = [(data, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


async def read_json(request: Request, model: type[Model]) -> Model:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise MalformedRequest(N_("Send the request as JSON (Content-Type: application/json)."))
    raw = await request.body()
    try:
        data = load_json(raw)
    except TooDeeplyNested:
        raise MalformedRequest(
            N_("The request body nests objects and lists more than %(limit)s levels deep."),
            limit=MAX_JSON_DEPTH,
        ) from None
    except UnicodeDecodeError as exc:
        raise MalformedRequest(N_("The request body is not valid UTF-8.")) from exc
    except ValueError as exc:
        raise MalformedRequest(N_("The request body is not valid JSON.")) from exc
    return parse_model(model, data)


def parse_model(model: type[Model], data: object) -> Model:
    if not isinstance(data, dict):
        raise InvalidInput(N_("Invalid request: the body must be a JSON object."))
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        raise invalid_request(exc) from None
