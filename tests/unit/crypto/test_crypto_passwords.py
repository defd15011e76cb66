from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

import crypto.passwords
from crypto import (
    DEFAULT_COST,
    DecryptionError,
    PasswordCost,
    WrongPassword,
    credential_cost,
    lock_secret,
    unlock_secret,
)

CHEAP = PasswordCost(iterations=1, memory_kib=1024)
PASSWORD = "correct horse"
SECRET = b"staff private key"
KAT_SALT = bytes(range(0x10, 0x20))
# lock_secret(PASSWORD, SECRET, CHEAP) with KAT_SALT and the fixed nonce a0..ab.
KAT_CREDENTIAL = bytes.fromhex(
    "01000000010000040000000001101112131415161718191a1b1c1d1e1f1a54c044bf998d402dd6205a55696a"
    "1fbc56ecd169a1eed0ad7f7a3bdf61ef1101a0a1a2a3a4a5a6a7a8a9aaab5392adf93494087ca265db839066"
    "7f4b3a21c4798872829d21723675a005259b02"
)
HEADER_END = 13 + 16 + 32  # params, salt, verifier


@pytest.fixture(scope="module")
def credential() -> bytes:
    return lock_secret(PASSWORD, SECRET, CHEAP)


def test_right_password_opens(credential: bytes) -> None:
    assert unlock_secret(credential, PASSWORD) == SECRET


@pytest.mark.parametrize("wrong", ["correct horse ", "Correct horse", "correct hors", "x" * 200])
def test_wrong_password_raises_wrong_password(credential: bytes, wrong: str) -> None:
    with pytest.raises(WrongPassword):
        unlock_secret(credential, wrong)


def test_empty_password_cannot_lock_and_never_unlocks(credential: bytes) -> None:
    with pytest.raises(ValueError, match="empty"):
        lock_secret("", SECRET, CHEAP)
    with pytest.raises(WrongPassword):
        unlock_secret(credential, "")


def test_password_is_nfc_normalised() -> None:
    composed = "caf\u00e9 m\u00fcller"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert unlock_secret(lock_secret(decomposed, SECRET, CHEAP), composed) == SECRET


def test_unencodable_password(credential: bytes) -> None:
    with pytest.raises(ValueError):
        lock_secret("pass\ud800word", SECRET, CHEAP)
    with pytest.raises(WrongPassword):
        unlock_secret(credential, "pass\ud800word")


@pytest.mark.parametrize("secret", [b"", b"\x00", os.urandom(32), os.urandom(1000)])
def test_any_secret_round_trips(secret: bytes) -> None:
    assert unlock_secret(lock_secret("pw", secret, CHEAP), "pw") == secret


def test_salts_are_fresh() -> None:
    first, second = lock_secret("pw", SECRET, CHEAP), lock_secret("pw", SECRET, CHEAP)
    assert first[13:29] != second[13:29]
    assert first[29:61] != second[29:61]


def test_known_answer(monkeypatch: pytest.MonkeyPatch, fixed_nonce: bytes) -> None:
    monkeypatch.setattr(crypto.passwords, "_random_salt", lambda: KAT_SALT)
    assert lock_secret(PASSWORD, SECRET, CHEAP) == KAT_CREDENTIAL
    assert unlock_secret(KAT_CREDENTIAL, PASSWORD) == SECRET


def test_format_matches_the_documented_layout() -> None:
    """Argon2id -> 64 bytes -> HKDF-Expand into verifier and KEK, spelled out by hand."""
    version, iterations, memory_kib, lanes = struct.unpack(">BIII", KAT_CREDENTIAL[:13])
    assert (version, iterations, memory_kib, lanes) == (1, 1, 1024, 1)
    salt, verifier, blob = KAT_CREDENTIAL[13:29], KAT_CREDENTIAL[29:61], KAT_CREDENTIAL[61:]
    master = Argon2id(salt=salt, length=64, iterations=1, lanes=1, memory_cost=1024).derive(
        PASSWORD.encode()
    )
    assert HKDFExpand(SHA256(), 32, b"quietline/password/verifier/v1").derive(master) == verifier
    kek = HKDFExpand(SHA256(), 32, b"quietline/password/kek/v1").derive(master)
    assert kek != verifier
    ad = b"\x01\x00\x00\x00\x1cquietline/password-secret/v1"
    assert blob[0] == 1
    assert ChaCha20Poly1305(kek).decrypt(blob[1:13], blob[13:], ad) == SECRET


def test_tampered_encrypted_part_is_a_decryption_error(
    tampered: Callable[[bytes], Iterator[bytes]],
) -> None:
    header, blob = KAT_CREDENTIAL[:HEADER_END], KAT_CREDENTIAL[HEADER_END:]
    for bad in tampered(blob):
        with pytest.raises(DecryptionError):
            unlock_secret(header + bad, PASSWORD)


def test_tampered_header_never_opens() -> None:
    """A changed cost, salt or verifier looks exactly like a wrong password; a cost outside the
    bounds or a truncated header is refused as malformed, before any derivation."""
    for i in range(HEADER_END):
        for mask in (0x01, 0x80):
            bad = bytearray(KAT_CREDENTIAL)
            bad[i] ^= mask
            with pytest.raises((WrongPassword, DecryptionError)):
                unlock_secret(bytes(bad), PASSWORD)
    for length in range(HEADER_END + 1):
        with pytest.raises(DecryptionError):
            unlock_secret(KAT_CREDENTIAL[:length], PASSWORD)


def test_changed_verifier_is_a_wrong_password() -> None:
    bad = bytearray(KAT_CREDENTIAL)
    bad[40] ^= 1
    with pytest.raises(WrongPassword):
        unlock_secret(bytes(bad), PASSWORD)


@pytest.mark.parametrize("version", [0x00, 0x02, 0xFF])
def test_unknown_version_fails(version: int) -> None:
    bad = bytes([version]) + KAT_CREDENTIAL[1:]
    with pytest.raises(DecryptionError):
        unlock_secret(bad, PASSWORD)
    with pytest.raises(DecryptionError):
        credential_cost(bad)


def test_absurd_cost_is_refused_without_deriving() -> None:
    bad = struct.pack(">BIII", 1, 3, 2**31, 1) + KAT_CREDENTIAL[13:]
    with pytest.raises(DecryptionError):
        unlock_secret(bad, PASSWORD)


def test_cost_is_parsed_back(credential: bytes) -> None:
    assert credential_cost(credential) == CHEAP
    assert credential_cost(KAT_CREDENTIAL) == PasswordCost(iterations=1, memory_kib=1024, lanes=1)
    other = PasswordCost(iterations=2, memory_kib=2048)
    assert credential_cost(lock_secret("pw", SECRET, other)) == other


def test_default_cost_round_trip() -> None:
    assert DEFAULT_COST == PasswordCost(iterations=3, memory_kib=65536, lanes=1)
    credential = lock_secret(PASSWORD, SECRET)
    assert credential_cost(credential) == DEFAULT_COST
    assert unlock_secret(credential, PASSWORD) == SECRET


@pytest.mark.parametrize(
    "kwargs",
    [
        {"iterations": 0},
        {"iterations": -1},
        {"memory_kib": 7},
        {"lanes": 0},
        {"lanes": 2},  # more than one lane hangs under threads (STACK-NOTES.md)
        {"iterations": 101},
        {"memory_kib": 4 * 1024 * 1024 + 1},
    ],
)
def test_cost_is_validated(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        PasswordCost(**kwargs)


def test_cost_must_be_ints() -> None:
    with pytest.raises(TypeError):
        PasswordCost(iterations=True)
    with pytest.raises(TypeError):
        PasswordCost(memory_kib=1024.0)  # type: ignore[arg-type]


_CONCURRENT = textwrap.dedent(
    """
    from concurrent.futures import ThreadPoolExecutor
    from crypto import PasswordCost, lock_secret, unlock_secret

    cost = PasswordCost(iterations=1, memory_kib=8192)

    def work(i: int) -> bool:
        secret = bytes([i]) * 32
        return unlock_secret(lock_secret(f"pw{i}", secret, cost), f"pw{i}") == secret

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(work, range(4)))
    print("ok")
    """
)


def test_concurrent_derivations_in_threads_complete() -> None:
    """Four threads deriving at once must not hang (they did with lanes > 1).

    Runs in a child process, so that a hang fails this test instead of freezing the run.
    """
    root = Path(crypto.__file__).resolve().parent.parent
    env = os.environ | {"PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", _CONCURRENT],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
