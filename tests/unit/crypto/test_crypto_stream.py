from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator

import pytest
from cryptography.exceptions import AlreadyFinalized, InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import crypto.stream
from crypto import (
    CHUNK_SIZE,
    HEADER_SIZE,
    SEALED_CHUNK_SIZE,
    DecryptionError,
    StreamChunkOpener,
    StreamDecryptor,
    StreamEncryptor,
    new_data_key,
)

KEY = new_data_key()
IDS = {"case_id": "case-1", "attachment_id": "att-1"}
KAT_KEY = bytes(range(32))
KAT_SALT = bytes(range(0x30, 0x40))
KAT_SMALL = bytes.fromhex(
    "02303132333435363738393a3b3c3d3e3f7aee5994b7988c7971c6f3add33a0dbca98565b556a4fd6abd9b"
)
KAT_BIG_SHA256 = "7ea82f7e7de8dd1ad57e5d88d360d9ac59b5b9535f1b66b139725063cf1ff002"
# The attachment key is derived from the data key with its own label (key separation).
KAT_ATTACHMENT_KEY_INFO = (
    b"\x01" + b"\x00\x00\x00\x18quietline/case-subkey/v2" + b"\x00\x00\x00\x0battachments"
)
KAT_INFO = (
    b"\x01"
    + b"\x00\x00\x00\x13quietline/stream/v2"
    + b"\x00\x00\x00\x06case-1"
    + b"\x00\x00\x00\x05att-1"
)
# Format 1, written before key separation (subkey straight from the data key): still read.
KAT_SMALL_V1 = bytes.fromhex(
    "01303132333435363738393a3b3c3d3e3fd64f04fab994ab1abce511130e754eb1185df5d3a4255ac63814"
)
KAT_INFO_V1 = (
    b"\x01"
    + b"\x00\x00\x00\x13quietline/stream/v1"
    + b"\x00\x00\x00\x06case-1"
    + b"\x00\x00\x00\x05att-1"
)
SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE]


def _slices(data: bytes, rng: random.Random) -> Iterator[bytes]:
    """Random pieces, from empty to several chunks long."""
    position = 0
    while position < len(data):
        size = rng.choice([0, 1, 7, 16, CHUNK_SIZE - 1, CHUNK_SIZE, SEALED_CHUNK_SIZE + 1])
        size = min(size, rng.randrange(1, 3 * SEALED_CHUNK_SIZE))
        yield data[position : position + size]
        position += size


def _encrypt(data: bytes, rng: random.Random | None = None) -> tuple[bytes, bytes]:
    encryptor = StreamEncryptor(KEY, **IDS)
    pieces = _slices(data, rng) if rng else iter([data])
    body = b"".join(encryptor.update(piece) for piece in pieces) + encryptor.finalize()
    return encryptor.header, body


def _decrypt(
    header: bytes,
    body: bytes,
    rng: random.Random | None = None,
    key: bytes = KEY,
    ids: dict[str, str] = IDS,
) -> bytes:
    decryptor = StreamDecryptor(key, header, **ids)
    pieces = _slices(body, rng) if rng else iter([body])
    return b"".join(decryptor.update(piece) for piece in pieces) + decryptor.finalize()


def _chunks(body: bytes) -> list[bytes]:
    return [body[i : i + SEALED_CHUNK_SIZE] for i in range(0, len(body), SEALED_CHUNK_SIZE)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_trip_with_random_slicing(size: int, seed: int) -> None:
    rng = random.Random(seed * 1000 + size)
    data = rng.randbytes(size)
    header, body = _encrypt(data, rng)
    assert len(header) == HEADER_SIZE == 17 and header[0] == 0x02
    full_chunks = max(0, (size - 1) // CHUNK_SIZE)
    assert len(body) == full_chunks * SEALED_CHUNK_SIZE + (size - full_chunks * CHUNK_SIZE) + 16
    assert _decrypt(header, body, rng) == data
    assert _decrypt(header, body) == data


def test_byte_at_a_time() -> None:
    data = os.urandom(CHUNK_SIZE + 3)
    encryptor = StreamEncryptor(KEY, **IDS)
    body = b"".join(encryptor.update(data[i : i + 1]) for i in range(len(data)))
    body += encryptor.finalize()
    decryptor = StreamDecryptor(KEY, encryptor.header, **IDS)
    plain = b"".join(decryptor.update(body[i : i + 1]) for i in range(len(body)))
    assert plain + decryptor.finalize() == data


def test_outputs_are_whole_chunks_and_memory_stays_flat() -> None:
    encryptor = StreamEncryptor(KEY, **IDS)
    decryptor = StreamDecryptor(KEY, encryptor.header, **IDS)
    rng = random.Random(5)
    for piece in _slices(os.urandom(10 * CHUNK_SIZE + 5), rng):
        sealed = encryptor.update(piece)
        assert len(sealed) % SEALED_CHUNK_SIZE == 0
        assert len(encryptor._pending) <= CHUNK_SIZE
        plain = decryptor.update(sealed)
        assert len(plain) % CHUNK_SIZE == 0
        assert len(decryptor._pending) <= SEALED_CHUNK_SIZE
    last = encryptor.finalize()
    assert 16 <= len(last) <= SEALED_CHUNK_SIZE
    assert len(decryptor.update(last)) % CHUNK_SIZE == 0
    decryptor.finalize()


def test_each_file_gets_a_fresh_salt() -> None:
    headers = {StreamEncryptor(KEY, **IDS).header for _ in range(20)}
    assert len(headers) == 20


def test_known_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto.stream, "_random_salt", lambda: KAT_SALT)
    encryptor = StreamEncryptor(KAT_KEY, **IDS)
    assert encryptor.header + encryptor.update(b"attachment") + encryptor.finalize() == KAT_SMALL
    encryptor = StreamEncryptor(KAT_KEY, **IDS)
    data = bytes(i % 251 for i in range(CHUNK_SIZE + 5))
    big = encryptor.header + encryptor.update(data) + encryptor.finalize()
    assert hashlib.sha256(big).hexdigest() == KAT_BIG_SHA256
    decryptor = StreamDecryptor(KAT_KEY, KAT_SMALL[:HEADER_SIZE], **IDS)
    assert decryptor.update(KAT_SMALL[HEADER_SIZE:]) + decryptor.finalize() == b"attachment"


def test_format_matches_the_documented_layout() -> None:
    attachment_key = HKDF(SHA256(), 32, salt=None, info=KAT_ATTACHMENT_KEY_INFO).derive(KAT_KEY)
    subkey = HKDF(SHA256(), 32, salt=KAT_SALT, info=KAT_INFO).derive(attachment_key)
    nonce = bytes(7) + (0).to_bytes(4, "big") + b"\x01"
    opened = ChaCha20Poly1305(subkey).decrypt(nonce, KAT_SMALL[HEADER_SIZE:], None)
    assert opened == b"attachment"


def test_attachment_keys_come_from_the_attachment_key_not_the_data_key() -> None:
    """Key separation: the per-file subkey is derived from the case's attachment key, itself
    derived from the data key with its own label; never from the data key directly."""
    key = new_data_key()
    encryptor = StreamEncryptor(key, **IDS)
    sealed = encryptor.update(b"attachment") + encryptor.finalize()
    salt = encryptor.header[1:]
    nonce = bytes(7) + (0).to_bytes(4, "big") + b"\x01"
    for info in (KAT_INFO, KAT_INFO_V1):
        direct = HKDF(SHA256(), 32, salt=salt, info=info).derive(key)
        with pytest.raises(InvalidTag):
            ChaCha20Poly1305(direct).decrypt(nonce, sealed, None)
    attachment_key = HKDF(SHA256(), 32, salt=None, info=KAT_ATTACHMENT_KEY_INFO).derive(key)
    subkey = HKDF(SHA256(), 32, salt=salt, info=KAT_INFO).derive(attachment_key)
    assert ChaCha20Poly1305(subkey).decrypt(nonce, sealed, None) == b"attachment"


def test_format_1_still_opens() -> None:
    """Attachments stored before key separation (a development database) keep opening."""
    subkey = HKDF(SHA256(), 32, salt=KAT_SALT, info=KAT_INFO_V1).derive(KAT_KEY)
    nonce = bytes(7) + (0).to_bytes(4, "big") + b"\x01"
    assert ChaCha20Poly1305(subkey).decrypt(nonce, KAT_SMALL_V1[HEADER_SIZE:], None) == (
        b"attachment"
    )
    decryptor = StreamDecryptor(KAT_KEY, KAT_SMALL_V1[:HEADER_SIZE], **IDS)
    assert decryptor.update(KAT_SMALL_V1[HEADER_SIZE:]) + decryptor.finalize() == b"attachment"
    opener = StreamChunkOpener(KAT_KEY, KAT_SMALL_V1[:HEADER_SIZE], **IDS)
    assert opener.open(0, KAT_SMALL_V1[HEADER_SIZE:], last=True) == b"attachment"


def test_version_byte_cannot_be_swapped() -> None:
    """A format-2 stream relabelled as format 1 (or the reverse) fails to open."""
    for blob in (b"\x01" + KAT_SMALL[1:], b"\x02" + KAT_SMALL_V1[1:]):
        decryptor = StreamDecryptor(KAT_KEY, blob[:HEADER_SIZE], **IDS)
        with pytest.raises(DecryptionError):
            decryptor.update(blob[HEADER_SIZE:])
            decryptor.finalize()


@pytest.fixture(scope="module")
def three_chunks() -> tuple[bytes, bytes, bytes]:
    data = os.urandom(2 * CHUNK_SIZE + 100)
    header, body = _encrypt(data)
    assert len(_chunks(body)) == 3
    return data, header, body


def _fails(header: bytes, body: bytes, ids: dict[str, str] = IDS) -> None:
    with pytest.raises(DecryptionError):
        _decrypt(header, body, ids=ids)


def test_truncation_fails(three_chunks: tuple[bytes, bytes, bytes]) -> None:
    _, header, body = three_chunks
    chunks = _chunks(body)
    _fails(header, b"".join(chunks[:2]))  # last chunk dropped
    _fails(header, chunks[0])
    _fails(header, b"")
    _fails(header, body[:-1])
    _fails(header, body[:-16])
    _fails(header, body[: 2 * SEALED_CHUNK_SIZE + 15])


def test_truncated_exact_multiple_fails() -> None:
    """A file of exactly two chunks: cutting the second leaves a valid but unflagged chunk."""
    header, body = _encrypt(os.urandom(2 * CHUNK_SIZE))
    assert len(body) == 2 * SEALED_CHUNK_SIZE
    _fails(header, body[:SEALED_CHUNK_SIZE])


def test_reordered_duplicated_or_dropped_chunks_fail(
    three_chunks: tuple[bytes, bytes, bytes],
) -> None:
    _, header, body = three_chunks
    a, b, c = _chunks(body)
    _fails(header, b + a + c)
    _fails(header, a + a + c)
    _fails(header, a + c)
    _fails(header, b + c)
    _fails(header, a + b + b + c)
    _fails(header, body + c)  # data after the last chunk


def test_chunk_from_another_file_fails(three_chunks: tuple[bytes, bytes, bytes]) -> None:
    data, header, body = three_chunks
    _, other_body = _encrypt(data)  # same key, same ids, other salt
    a, b, c = _chunks(body)
    _fails(header, a + _chunks(other_body)[1] + c)
    _fails(header, other_body)


def test_wrong_context_or_key_fails(three_chunks: tuple[bytes, bytes, bytes]) -> None:
    _, header, body = three_chunks
    _fails(header, body, {"case_id": "case-1", "attachment_id": "att-2"})
    _fails(header, body, {"case_id": "case-2", "attachment_id": "att-1"})
    _fails(header, body, {"case_id": "case-1a", "attachment_id": "tt-1"})
    with pytest.raises(DecryptionError):
        _decrypt(header, body, key=new_data_key())


def test_flipped_bytes_fail(three_chunks: tuple[bytes, bytes, bytes]) -> None:
    _, header, body = three_chunks
    positions = [0, 1, CHUNK_SIZE - 1, SEALED_CHUNK_SIZE - 1, SEALED_CHUNK_SIZE, len(body) - 1]
    for position in positions:
        bad = bytearray(body)
        bad[position] ^= 0x01
        _fails(header, bytes(bad))
    for position in range(HEADER_SIZE):
        bad_header = bytearray(header)
        bad_header[position] ^= 0x80
        _fails(bytes(bad_header), body)


@pytest.mark.parametrize("bad_header", [b"", b"\x01", b"\x03" + bytes(16), b"\x01" + bytes(17)])
def test_malformed_header_fails(bad_header: bytes) -> None:
    with pytest.raises(DecryptionError):
        StreamDecryptor(KEY, bad_header, **IDS)


def test_small_tamper_fails_at_finalize() -> None:
    header, body = _encrypt(b"short")
    decryptor = StreamDecryptor(KEY, header, **IDS)
    assert decryptor.update(body[:-1] + bytes([body[-1] ^ 1])) == b""
    with pytest.raises(DecryptionError):
        decryptor.finalize()


def test_decryptor_refuses_use_after_failure(three_chunks: tuple[bytes, bytes, bytes]) -> None:
    _, header, body = three_chunks
    a, b, c = _chunks(body)
    decryptor = StreamDecryptor(KEY, header, **IDS)
    with pytest.raises(DecryptionError):
        decryptor.update(b + a + c)
    with pytest.raises(AlreadyFinalized):
        decryptor.update(c)
    with pytest.raises(AlreadyFinalized):
        decryptor.finalize()


def test_use_after_finalize_raises() -> None:
    encryptor = StreamEncryptor(KEY, **IDS)
    last = encryptor.finalize()
    with pytest.raises(AlreadyFinalized):
        encryptor.update(b"more")
    with pytest.raises(AlreadyFinalized):
        encryptor.finalize()
    decryptor = StreamDecryptor(KEY, encryptor.header, **IDS)
    assert decryptor.update(last) == b""
    assert decryptor.finalize() == b""
    with pytest.raises(AlreadyFinalized):
        decryptor.update(b"")
    with pytest.raises(AlreadyFinalized):
        decryptor.finalize()


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="data_key"):
        StreamEncryptor(bytes(16), **IDS)
    with pytest.raises(ValueError, match="data_key"):
        StreamDecryptor(bytes(16), bytes(HEADER_SIZE), **IDS)
    with pytest.raises(ValueError, match="attachment_id"):
        StreamEncryptor(KEY, case_id="c", attachment_id="")
    with pytest.raises(TypeError):
        StreamEncryptor(KEY, **IDS).update("text")  # type: ignore[arg-type]


def _sealed_chunks(body: bytes) -> list[bytes]:
    return [
        body[start : start + SEALED_CHUNK_SIZE] for start in range(0, len(body), SEALED_CHUNK_SIZE)
    ]


def test_chunk_opener_opens_every_chunk_at_its_own_position_in_any_order() -> None:
    data = os.urandom(3 * CHUNK_SIZE + 123)
    header, body = _encrypt(data)
    chunks = _sealed_chunks(body)
    opener = StreamChunkOpener(KEY, header, **IDS)
    order = list(range(len(chunks)))
    random.Random(5).shuffle(order)
    opened = {
        index: opener.open(index, chunks[index], last=index == len(chunks) - 1) for index in order
    }
    assert b"".join(opened[index] for index in range(len(chunks))) == data


def test_chunk_opener_refuses_moved_misflagged_or_altered_chunks() -> None:
    header, body = _encrypt(os.urandom(2 * CHUNK_SIZE + 5))
    chunks = _sealed_chunks(body)
    opener = StreamChunkOpener(KEY, header, **IDS)
    with pytest.raises(DecryptionError):
        opener.open(1, chunks[0], last=False)
    with pytest.raises(DecryptionError):
        opener.open(2, chunks[2], last=False)
    with pytest.raises(DecryptionError):
        opener.open(0, chunks[0], last=True)
    flipped = bytearray(chunks[1])
    flipped[10] ^= 1
    with pytest.raises(DecryptionError):
        opener.open(1, bytes(flipped), last=False)
    with pytest.raises(DecryptionError):
        StreamChunkOpener(KEY, header, case_id="case-2", attachment_id="att-1").open(
            0, chunks[0], last=False
        )
