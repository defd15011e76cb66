"""Domain errors. Each carries the sentence a person is shown and the HTTP status it maps to.

The sentence is written in English with ``%(name)s`` placeholders, marked for the catalog where
it is written (``InvalidInput(N_("At most %(limit)s files."), limit=5)``), never built with an
f-string or ``%``: the test suite refuses any other form (see intake/devtools/sentences.py).
``error.message`` gives it in the language of the current request (see intake.i18n), with the
placeholders filled in from the keyword arguments; ``str(error)`` is always the English text.
A sentence with a plural form is marked with ``N_plural()``; its count is the ``num`` parameter.
"""

from __future__ import annotations

from intake import i18n


class QuietlineError(Exception):
    status = 400

    def __init__(
        self,
        message: str | i18n.Plural,
        *,
        field: str | None = None,
        **params: object,
    ) -> None:
        self.plural: i18n.Plural | None = None
        self.count = 0
        if isinstance(message, i18n.Plural):
            count = params.get("num")
            if not isinstance(count, int):
                raise TypeError("a sentence with a plural form needs its count as num=")
            self.plural, self.count = message, count
            english = message.singular if count == 1 else message.plural
            self.template = message.singular
        else:
            english = self.template = message
        super().__init__(i18n.in_english(english, params))
        self.params = params
        self.field = field

    @property
    def message(self) -> str:
        """The sentence in the current language."""
        if self.plural is not None:
            return i18n.ngettext(self.plural.singular, self.plural.plural, self.count, self.params)
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

    def __init__(
        self, message: str | i18n.Plural, *, retry_after: int = 60, **params: object
    ) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after
