"""Choosing and reading a backup's protection (intake/operations/backup_protection.py): exactly
one of recipients, a passphrase or --plain; key files as age writes them; errors that never
repeat a secret."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyrage import x25519

from intake.operations import backup_protection
from intake.operations.backup_protection import BackupError, choose


def _public() -> str:
    return str(x25519.Identity.generate().to_public())


def test_nothing_chosen_is_refused_and_names_every_way() -> None:
    with pytest.raises(BackupError) as refused:
        choose(to=[], configured=[], passphrase=None, plain=False)
    for way in ("--to", "QUIETLINE_BACKUP_RECIPIENTS", "--passphrase-stdin", "--plain"):
        assert way in str(refused.value)


@pytest.mark.parametrize(
    ("to", "passphrase", "plain"),
    [
        ("key", None, True),
        (None, "a passphrase long enough", True),
        ("key", "a passphrase long enough", False),
    ],
)
def test_two_protections_at_once_are_refused(to: str | None, passphrase: str, plain: bool) -> None:
    with pytest.raises(BackupError):
        choose(to=[_public()] if to else [], configured=[], passphrase=passphrase, plain=plain)


def test_to_replaces_the_configured_recipients(tmp_path: Path) -> None:
    given, configured = _public(), _public()
    chosen = choose(to=[given], configured=[configured], passphrase=None, plain=False)
    assert [str(r) for r in chosen.recipients] == [given]
    fallback = choose(to=[], configured=[configured], passphrase=None, plain=False)
    assert [str(r) for r in fallback.recipients] == [configured]


def test_a_recipients_file_may_hold_comments_and_blank_lines(tmp_path: Path) -> None:
    keys = [_public(), _public()]
    listed = tmp_path / "recipients.txt"
    listed.write_text(f"# clerk\n{keys[0]}\n\n  # auditor\n{keys[1]}\n")
    chosen = choose(to=[str(listed), keys[0]], configured=[], passphrase=None, plain=False)
    assert [str(r) for r in chosen.recipients] == [*keys, keys[0]]
    assert chosen.describe() == "encrypted with age to 3 recipients"


def test_an_identity_file_error_names_the_line_not_its_text(tmp_path: Path) -> None:
    secretish = "AGE-SECRET-KEY-1NOTAREALKEYBUTITCOULDHAVEBEEN"
    path = tmp_path / "identity.txt"
    path.write_text(f"# made today\n{secretish}\n")
    with pytest.raises(BackupError) as refused:
        backup_protection.identities_from([str(path)])
    assert "line 2" in str(refused.value) and secretish not in str(refused.value)


def test_the_passphrase_is_never_shown() -> None:
    chosen = choose(to=[], configured=[], passphrase="correct horse battery", plain=False)
    assert "correct horse" not in repr(chosen) and "correct horse" not in chosen.describe()


def test_what_a_file_is_is_read_from_its_header(tmp_path: Path) -> None:
    identity = x25519.Identity.generate()
    sealed = io.BytesIO()
    protection = backup_protection.Protection(recipients=(identity.to_public(),))
    backup_protection.write_protected(sealed, protection, lambda out: out.write(b"archive"))
    to_key = tmp_path / "to-key"
    to_key.write_bytes(sealed.getvalue())
    plain = tmp_path / "plain"
    plain.write_bytes(b"archive")
    assert backup_protection.kind_of(to_key) == "recipients"
    assert backup_protection.kind_of(plain) == "plain"
    opened = io.BytesIO()
    backup_protection.decrypt_file(to_key, opened, identities=[identity])
    assert opened.getvalue() == b"archive"


def test_a_failure_while_writing_the_archive_is_not_hidden() -> None:
    """The archive is written in a thread feeding the encryption: its error reaches the caller."""
    protection = backup_protection.Protection(recipients=(x25519.Identity.generate().to_public(),))

    def fails(out: object) -> None:
        raise BackupError("the SQLite backup failed")

    with pytest.raises(BackupError, match="SQLite backup failed"):
        backup_protection.write_protected(io.BytesIO(), protection, fails)
