"""Forward-only outputs for the cleaners: the cleaned copy goes straight to a ``write`` callback
(into the encrypted staging file), never into a seekable buffer that would hold it whole."""

from __future__ import annotations

from collections.abc import Callable


class ForwardSink:
    """A file object that only appends. It has no ``seek``: zipfile, finding none, writes each
    member's sizes in a data descriptor after its data instead of going back for them."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write
        self._position = 0

    def write(self, data: bytes) -> int:
        self._write(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        return None


class InPlaceSeekSink(ForwardSink):
    """A :class:`ForwardSink` with a ``seek`` that only stays where it is: pikepdf requires the
    method, and qpdf only ever appends; any real move is refused."""

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset if whence == 0 else self._position + offset if whence == 1 else -1
        if target != self._position:
            raise OSError("this output is written forward only")
        return self._position
