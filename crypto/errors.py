"""Exceptions raised by :mod:`crypto`.

Messages are fixed strings: they never include keys, plaintext, passwords or tokens, so an
exception can be logged or shown without leaking anything.
"""

from __future__ import annotations

__all__ = [
    "N_",
    "CryptoError",
    "DecryptionError",
    "ShareError",
    "SignatureError",
    "TokenTypo",
    "WrongPassword",
]


def N_(message: str) -> str:
    """Marks a sentence a person reads, so the application's message catalog collects it.

    The sentence is returned as it is: the application that shows it translates it.
    """
    return message


class CryptoError(Exception):
    """Base class of the errors raised when opening protected data."""


class DecryptionError(CryptoError):
    """Protected data could not be opened.

    One error for every cause (wrong key, tampered or truncated bytes, a ciphertext moved to
    another case, field or purpose, an unknown format version): telling them apart would help an
    attacker more than it helps an operator.
    """

    def __init__(self, message: str = "The data could not be decrypted.") -> None:
        super().__init__(message)


class WrongPassword(CryptoError):
    """The password does not unlock this credential."""

    def __init__(self, message: str = "The password is not correct.") -> None:
        super().__init__(message)


class SignatureError(CryptoError):
    """A signature does not verify.

    One error for every cause (another key, another message or purpose, a malformed key or
    signature), for the same reason as :class:`DecryptionError`.
    """

    def __init__(self, message: str = "The signature is not valid.") -> None:
        super().__init__(message)


class ShareError(CryptoError):
    """Recovery shares could not be combined; the message says why, fit to show a custodian."""


class TokenTypo(ValueError):
    """A case token was mistyped.

    ``str(error)`` is a plain-English sentence that can be shown to the reporter as it is.
    ``template`` is the same sentence with ``%(name)s`` placeholders and ``params`` their values,
    so that a caller can show it in another language (the template is a catalog message id).
    """

    def __init__(self, template: str, **params: str | int) -> None:
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params
