"""A case's data keys over time: one random key per epoch.

When someone loses access to a case, the case moves to a new epoch: what is written from then on
is encrypted under a new key that is sealed only to the people who still hold the case. Everyone
who holds the case holds every epoch's key (one sealed blob, :meth:`KeyEpochs.pack`), so older
entries stay readable to them; the person removed holds, in any copy they kept, only the keys of
the epochs before their removal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from crypto._encoding import require_bytes
from crypto.errors import DecryptionError
from crypto.fields import FieldCipher
from crypto.keys import DATA_KEY_BYTES

_PACKED = b"\x02"  # a first byte a single 32-byte key (epoch 1 alone) is never told apart by
_EPOCH_BYTES = 4
_RECORD = _EPOCH_BYTES + DATA_KEY_BYTES
FIRST_EPOCH = 1


@dataclass(frozen=True, repr=False)
class KeyEpochs:
    """Every epoch's data key of one case, by epoch number (1, 2, ...)."""

    keys: Mapping[int, bytes]
    # Each epoch's field cipher, made when first asked for (:meth:`fields`): these keys live as
    # long as the work on one case, and so do the field keys derived from them.
    _fields: dict[int, FieldCipher] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a case has at least one key")
        for epoch, key in self.keys.items():
            if epoch < FIRST_EPOCH or len(key) != DATA_KEY_BYTES:
                raise ValueError("each epoch is 1 or more, each key 32 bytes")
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @classmethod
    def first(cls, key: bytes) -> KeyEpochs:
        """A new case's keys: epoch 1 alone."""
        return cls({FIRST_EPOCH: key})

    @property
    def current(self) -> int:
        """The epoch new writing belongs to: the newest."""
        return max(self.keys)

    @property
    def latest(self) -> bytes:
        """The key new writing is encrypted with."""
        return self.keys[self.current]

    def of(self, epoch: int) -> bytes:
        """The key of ``epoch``; DecryptionError where these keys do not reach it."""
        try:
            return self.keys[epoch]
        except KeyError:
            raise DecryptionError("no key for this epoch") from None

    def fields(self, epoch: int) -> FieldCipher:
        """The field cipher of ``epoch``, its field key derived once for these keys;
        DecryptionError where these keys do not reach it."""
        cipher = self._fields.get(epoch)
        if cipher is None:
            cipher = self._fields[epoch] = FieldCipher(self.of(epoch))
        return cipher

    def advanced(self, key: bytes) -> KeyEpochs:
        """These keys and ``key`` as the next epoch's."""
        return KeyEpochs({**self.keys, self.current + 1: key})

    def pack(self) -> bytes:
        """The bytes sealed to each holder. Epoch 1 alone packs as its key, so a case that never
        changed epoch stores exactly what it always did."""
        if set(self.keys) == {FIRST_EPOCH}:
            return self.keys[FIRST_EPOCH]
        return _PACKED + b"".join(
            epoch.to_bytes(_EPOCH_BYTES, "big") + self.keys[epoch] for epoch in sorted(self.keys)
        )

    @classmethod
    def unpack(cls, packed: bytes) -> KeyEpochs:
        """The inverse of :meth:`pack`; DecryptionError for anything else."""
        require_bytes(packed, "packed")
        if len(packed) == DATA_KEY_BYTES:
            return cls.first(packed)
        body = packed[1:]
        if packed[:1] != _PACKED or not body or len(body) % _RECORD:
            raise DecryptionError("not a case's keys")
        records = [body[i : i + _RECORD] for i in range(0, len(body), _RECORD)]
        epochs = [int.from_bytes(r[:_EPOCH_BYTES], "big") for r in records]
        if epochs != sorted(set(epochs)):  # one spelling only: increasing, each epoch once
            raise DecryptionError("not a case's keys")
        try:
            return cls({epoch: r[_EPOCH_BYTES:] for epoch, r in zip(epochs, records, strict=True)})
        except ValueError:
            raise DecryptionError("not a case's keys") from None

    def __repr__(self) -> str:
        return f"KeyEpochs(epochs={sorted(self.keys)})"
