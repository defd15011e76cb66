"""Quietline's cryptography: pure functions over bytes, no web and no database.

Every stored blob starts with a format version byte (0x02 for fields and attachments, whose keys
are derived from the case data key; 0x01 elsewhere), so the construction can change without a
flag day; an unknown version fails to open with :class:`DecryptionError`.
"""

from crypto.chain import AUDIT_LINK_BYTES, audit_key_id, audit_link, audit_linker
from crypto.epochs import FIRST_EPOCH, KeyEpochs
from crypto.errors import (
    CryptoError,
    DecryptionError,
    ShareError,
    SignatureError,
    TokenTypo,
    WrongPassword,
)
from crypto.fields import FieldCipher, decrypt_field, encrypt_field
from crypto.identity import IDENTITY_HALF_BYTES, SealedIdentity, open_identity, seal_identity
from crypto.keys import DATA_KEY_BYTES, KeyPair, generate_keypair, new_data_key, public_key_of
from crypto.passwords import (
    DEFAULT_COST,
    PasswordCost,
    credential_cost,
    lock_secret,
    unlock_secret,
)
from crypto.sealing import seal, unseal
from crypto.shares import MAX_SHARES, combine_shares, split_secret
from crypto.signing import (
    SIGNATURE_BYTES,
    SigningKeyPair,
    generate_signing_keypair,
    sign,
    signing_public_key_of,
    verify,
)
from crypto.stream import (
    CHUNK_SIZE,
    HEADER_SIZE,
    SEALED_CHUNK_SIZE,
    StreamChunkOpener,
    StreamDecryptor,
    StreamEncryptor,
)
from crypto.tokens import (
    ONCE_BYTES,
    TOKEN_BITS,
    TOKEN_LENGTH,
    format_token,
    new_once,
    new_token,
    normalise_token,
    once_digest,
    pepper_check,
    reporter_key,
    reporter_keypair,
    token_lookup_key,
)
from crypto.wrapping import unwrap_key, wrap_key

__all__ = [
    "AUDIT_LINK_BYTES",
    "CHUNK_SIZE",
    "DATA_KEY_BYTES",
    "DEFAULT_COST",
    "FIRST_EPOCH",
    "FieldCipher",
    "HEADER_SIZE",
    "IDENTITY_HALF_BYTES",
    "KeyEpochs",
    "SEALED_CHUNK_SIZE",
    "SealedIdentity",
    "SIGNATURE_BYTES",
    "ONCE_BYTES",
    "TOKEN_BITS",
    "TOKEN_LENGTH",
    "CryptoError",
    "DecryptionError",
    "KeyPair",
    "MAX_SHARES",
    "PasswordCost",
    "ShareError",
    "SignatureError",
    "SigningKeyPair",
    "StreamChunkOpener",
    "StreamDecryptor",
    "StreamEncryptor",
    "TokenTypo",
    "WrongPassword",
    "audit_key_id",
    "audit_link",
    "audit_linker",
    "combine_shares",
    "credential_cost",
    "decrypt_field",
    "encrypt_field",
    "format_token",
    "generate_keypair",
    "generate_signing_keypair",
    "lock_secret",
    "new_data_key",
    "new_once",
    "new_token",
    "normalise_token",
    "once_digest",
    "open_identity",
    "pepper_check",
    "public_key_of",
    "reporter_key",
    "reporter_keypair",
    "seal",
    "seal_identity",
    "sign",
    "signing_public_key_of",
    "split_secret",
    "token_lookup_key",
    "unlock_secret",
    "unseal",
    "unwrap_key",
    "verify",
    "wrap_key",
]
