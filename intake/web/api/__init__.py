"""The JSON API, ``/api/v1/``. Tokens travel in request bodies, never in URLs.

The routes are gathered in :mod:`intake.web.api.routes`; this package imports nothing on its
own, so any of its modules imports alone.
"""
