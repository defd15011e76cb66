from __future__ import annotations

import ast
import inspect
import pkgutil
import sys
from pathlib import Path

import crypto
from crypto import CryptoError, DecryptionError, TokenTypo, WrongPassword

EXPECTED = {
    "CHUNK_SIZE", "DATA_KEY_BYTES", "DEFAULT_COST", "FIRST_EPOCH", "FieldCipher", "HEADER_SIZE",
    "KeyEpochs",
    "SEALED_CHUNK_SIZE",
    "TOKEN_BITS", "TOKEN_LENGTH", "CryptoError", "DecryptionError", "KeyPair", "PasswordCost",
    "StreamChunkOpener", "StreamDecryptor", "StreamEncryptor", "TokenTypo", "WrongPassword",
    "credential_cost",
    "decrypt_field", "encrypt_field", "format_token", "generate_keypair", "lock_secret",
    "new_data_key", "new_token", "normalise_token", "pepper_check", "public_key_of",
    "reporter_key", "reporter_keypair", "seal",
    "MAX_SHARES", "ShareError", "SignatureError", "SigningKeyPair", "SIGNATURE_BYTES",
    "combine_shares", "AUDIT_LINK_BYTES", "audit_key_id", "audit_link", "audit_linker",
    "generate_signing_keypair", "sign", "signing_public_key_of", "split_secret", "verify",
    "token_lookup_key", "unlock_secret", "unseal", "unwrap_key", "wrap_key",
    "ONCE_BYTES", "new_once", "once_digest",
    "IDENTITY_HALF_BYTES", "SealedIdentity", "open_identity", "seal_identity",
}  # fmt: skip


def test_package_exports_the_public_api() -> None:
    assert set(crypto.__all__) == EXPECTED
    for name in crypto.__all__:
        assert getattr(crypto, name) is not None


def test_error_hierarchy() -> None:
    assert issubclass(DecryptionError, CryptoError)
    assert issubclass(WrongPassword, CryptoError)
    assert issubclass(crypto.SignatureError, CryptoError)
    assert issubclass(crypto.ShareError, CryptoError)
    assert issubclass(TokenTypo, ValueError)
    assert not issubclass(TokenTypo, CryptoError)
    assert str(DecryptionError()) and str(WrongPassword())


SIGNATURES = {
    "new_data_key": "",
    "generate_keypair": "",
    "public_key_of": "private",
    "encrypt_field": "data_key plaintext * case_id field",
    "decrypt_field": "data_key ciphertext * case_id field",
    "wrap_key": "kek key * context",
    "unwrap_key": "kek wrapped * context",
    "seal": "plaintext recipient_public * case_id purpose",
    "unseal": "sealed private * case_id purpose",
    "lock_secret": "password secret cost",
    "unlock_secret": "credential password",
    "credential_cost": "credential",
    "new_token": "",
    "normalise_token": "text",
    "format_token": "canonical",
    "token_lookup_key": "pepper canonical",
    "pepper_check": "pepper",
    "new_once": "",
    "once_digest": "pepper value",
    "reporter_key": "canonical salt",
    "reporter_keypair": "canonical salt",
    "generate_signing_keypair": "",
    "signing_public_key_of": "private",
    "sign": "private message * purpose",
    "verify": "public message signature * purpose",
    "split_secret": "secret * threshold shares",
    "audit_link": "key previous event",
    "audit_linker": "key",
    "audit_key_id": "key",
    "combine_shares": "shares",
    "StreamEncryptor": "data_key * case_id attachment_id",
    "seal_identity": "identity * case_id",
    "open_identity": "sealed * officers_half custodians_half case_id",
    "StreamDecryptor": "data_key header * case_id attachment_id",
}


def _shape(function: object) -> str:
    words = []
    for parameter in inspect.signature(function).parameters.values():  # type: ignore[arg-type]
        if parameter.kind is parameter.KEYWORD_ONLY and "*" not in words:
            words.append("*")
        words.append(parameter.name)
    return " ".join(words)


def test_signatures_are_as_agreed() -> None:
    for name, shape in SIGNATURES.items():
        assert _shape(getattr(crypto, name)) == shape, name
    assert inspect.signature(crypto.lock_secret).parameters["cost"].default is crypto.DEFAULT_COST
    assert [m for m in ("update", "finalize") if hasattr(crypto.StreamEncryptor, m)] == [
        "update",
        "finalize",
    ]
    assert isinstance(inspect.getattr_static(crypto.StreamEncryptor, "header"), property)


# SLIP-39 share splitting is the one construction taken from another library, in one module.
OTHER_LIBRARIES = {"shares": {"shamir_mnemonic"}}


def test_only_the_standard_library_and_cryptography_are_imported() -> None:
    allowed_roots = {"crypto", "cryptography", "__future__"}
    package_dir = Path(crypto.__file__).parent
    for module in pkgutil.iter_modules([str(package_dir)]):
        tree = ast.parse((package_dir / f"{module.name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                allowed = allowed_roots | OTHER_LIBRARIES.get(module.name, set())
                assert root in allowed or root in sys.stdlib_module_names, name
