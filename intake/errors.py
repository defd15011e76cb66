"""Domain errors. Each carries the sentence a person is shown and the HTTP status it maps to.

The sentence is written in English with ``%(name)s`` placeholders and is a catalog message id:
``error.message`` gives it in the language of the current request (see intake.i18n), with the
placeholders filled in from the keyword arguments; ``str(error)`` is always the English text.
"""

from __future__ import annotations

from intake import i18n


class QuietlineError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        super().__init__(i18n.in_english(message, params))
        self.template = message
        self.params = params
        self.field = field

    @property
    def message(self) -> str:
        """The sentence in the current language."""
        return i18n.gettext(self.template, self.params)


class InvalidInput(QuietlineError):
    status = 422


class TokenMistyped(InvalidInput):
    """The token has a typo: wrong length, a character never used, or a bad check character."""


class CaseNotFound(QuietlineError):
    status = 404


class CaseDeleted(QuietlineError):
    """The case was closed and its content destroyed under the retention rules."""

    status = 410


class NoRecipients(QuietlineError):
    """No one can receive the report (no officer in the group, or no recovery key)."""

    status = 503


class NotSignedIn(QuietlineError):
    """No valid staff session: never signed in, signed out, or expired."""

    status = 401


class SignInFailed(QuietlineError):
    status = 401


class Forbidden(QuietlineError):
    """Signed in, but this person may not do this (or the CSRF token is missing)."""

    status = 403


class TooManyAttempts(QuietlineError):
    """Refused for now; ``retry_after`` (seconds) goes out as the Retry-After header."""

    status = 429

    def __init__(self, message: str, *, retry_after: int = 60, **params: object) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after
