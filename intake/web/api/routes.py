"""Every route of the JSON API, and its OpenAPI document completed with the staff paths."""

from __future__ import annotations

from starlette.routing import BaseRoute

from intake.web.api import (
    audit,
    case_openapi,
    directory,
    identity,
    identity_openapi,
    openapi,
    operations,
    operations_openapi,
    reporter,
    staff,
    staff_openapi,
)

openapi.PATHS.update(staff_openapi.STAFF_PATHS)
openapi.PATHS.update(case_openapi.CASE_PATHS)
openapi.SECURITY_SCHEMES.update(staff_openapi.SECURITY_SCHEMES)
openapi.PATHS.update(operations_openapi.OPERATIONS_PATHS)
openapi.PATHS.update(identity_openapi.IDENTITY_PATHS)

routes: list[BaseRoute] = [
    *reporter.routes,
    *staff.routes,
    *operations.routes,
    *directory.routes,
    *identity.routes,
    *audit.routes,
    *openapi.routes,
]
