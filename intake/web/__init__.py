"""The web layer: the Starlette app, middleware, templates, and the routes of every audience."""
