"""Embedding a file in a document: base64 in pieces, as the plaintext streams in.

Base64 turns every 3 bytes into 4 characters, so pieces cut at multiples of 3 bytes encode to
strings that join into exactly the encoding of the whole file; the 0 to 2 bytes left over from
one piece wait for the next.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterable, AsyncIterator


async def base64_pieces(pieces: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """Standard base64 of the concatenated pieces, one encoded string per piece (or none
    while fewer than 3 bytes have come)."""
    carry = b""
    async for piece in pieces:
        data = memoryview(carry + piece if carry else piece)
        cut = len(data) - len(data) % 3
        carry = bytes(data[cut:])
        if cut:
            yield base64.b64encode(data[:cut]).decode("ascii")
    if carry:
        yield base64.b64encode(carry).decode("ascii")
