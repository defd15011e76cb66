"""Every route of the JSON API, and its OpenAPI document completed with the staff paths."""

from __future__ import annotations

from starlette.routing import BaseRoute

from intake.web.api import (
    audit,
    case_openapi,
    closing,
    directory,
    identity,
    identity_openapi,
    openapi,
    operations,
    operations_openapi,
    reporter,
    search,
    staff,
    staff_openapi,
)

openapi.PATHS.update(staff_openapi.STAFF_PATHS)
openapi.PATHS.update(case_openapi.CASE_PATHS)
openapi.SECURITY_SCHEMES.update(staff_openapi.SECURITY_SCHEMES)
openapi.PATHS.update(operations_openapi.OPERATIONS_PATHS)
openapi.PATHS.update(closing.PATHS)
openapi.PATHS.update(search.PATHS)
openapi.PATHS.update(identity_openapi.IDENTITY_PATHS)

routes: list[BaseRoute] = [
    *reporter.routes,
    *closing.routes,
    *search.routes,  # before the case routes: /cases/search is not a reference
    *staff.routes,
    *operations.routes,
    *directory.routes,
    *identity.routes,
    *audit.routes,
    *openapi.routes,
]
