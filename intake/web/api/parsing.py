"""Reading JSON request bodies into validated models, with errors a person can act on."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request

from intake.errors import InvalidInput, QuietlineError

Model = TypeVar("Model", bound=BaseModel)


class StrictBody(BaseModel):
    """A request body of the JSON API: a field the model does not name is refused, not
    ignored, so a misspelt option never passes silently."""

    model_config = ConfigDict(extra="forbid")


class MalformedRequest(QuietlineError):
    status = 400


def describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"]) or "body"
        problems.append(f"{where}: {item['msg']}")
    return "Invalid request: " + "; ".join(problems) + "."


async def read_json(request: Request, model: type[Model]) -> Model:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise MalformedRequest("Send the request as JSON (Content-Type: application/json).")
    raw = await request.body()
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise MalformedRequest("The request body is not valid UTF-8.") from exc
    except ValueError as exc:
        raise MalformedRequest("The request body is not valid JSON.") from exc
    return parse_model(model, data)


def parse_model(model: type[Model], data: object) -> Model:
    if not isinstance(data, dict):
        raise InvalidInput("Invalid request: the body must be a JSON object.")
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        raise InvalidInput(describe(exc)) from None
