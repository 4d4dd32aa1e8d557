"""Encryption at rest and keyed hashes, with key rotation.

``GRIEVANCE_DATA_KEY`` holds one or more Fernet keys, newest first. The newest
encrypts; all decrypt (``MultiFernet``). Lookups (a phone number, a case code)
use hashes keyed by each configured key, so rows written under an older key
are still found while that key is listed; ``grievance keys rotate`` rewrites
them under the newest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from functools import cached_property

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DecryptionError(Exception):
    """Data encrypted under a key that is no longer configured."""


def _subkey(fernet_key: str, purpose: bytes) -> bytes:
    raw = base64.urlsafe_b64decode(fernet_key.encode())
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"grievance:" + purpose
    ).derive(raw)


class DataProtector:
    """Encrypts personal data and computes the keyed hashes used to look it up."""

    def __init__(self, keys: Sequence[str], code_hash_n: int = 2**14) -> None:
        if not keys:
            raise ValueError("at least one data key is needed")
        self._keys = tuple(keys)
        self._fernet = MultiFernet([Fernet(k) for k in self._keys])
        self._code_hash_n = code_hash_n

    @cached_property
    def key_ids(self) -> tuple[str, ...]:
        """A short public fingerprint of each key, newest first (says which key a hash used)."""
        return tuple(_subkey(k, b"key-id").hex()[:16] for k in self._keys)

    @cached_property
    def _address_keys(self) -> tuple[bytes, ...]:
        return tuple(_subkey(k, b"address") for k in self._keys)

    @cached_property
    def _code_salts(self) -> tuple[bytes, ...]:
        return tuple(_subkey(k, b"case-code") for k in self._keys)

    def encrypt(self, value: str | bytes) -> bytes:
        """Encrypt under the newest key."""
        data = value.encode() if isinstance(value, str) else value
        return self._fernet.encrypt(data)

    def decrypt_bytes(self, token: bytes) -> bytes:
        """Decrypt with whichever configured key fits."""
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise DecryptionError(
                "data was encrypted under a key that is not in GRIEVANCE_DATA_KEY; add the old key back"
            ) from None

    def decrypt(self, token: bytes) -> str:
        """Decrypt text."""
        return self.decrypt_bytes(token).decode()

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt ``token`` under the newest key."""
        return self._fernet.rotate(token)

    def address_hash(self, address: str) -> str:
        """The lookup hash of a phone number or WhatsApp id under the newest key."""
        return self.address_hashes(address)[0]

    def address_hashes(self, address: str) -> list[str]:
        """The lookup hash under every configured key, newest first."""
        normalized = address.strip().lower().encode()
        return [hmac.new(k, normalized, hashlib.sha256).hexdigest() for k in self._address_keys]

    @cached_property
    def _text_keys(self) -> tuple[bytes, ...]:
        return tuple(_subkey(k, b"translation-source") for k in self._keys)

    def text_hashes(self, language: str, text: str) -> list[str]:
        """The keyed hash of a text to translate (with its language) under every configured
        key, newest first: says whether a cached translation is of this very text."""
        data = language.encode() + b"\n" + text.encode()
        return [hmac.new(k, data, hashlib.sha256).hexdigest() for k in self._text_keys]

    @cached_property
    def _code_keys(self) -> tuple[bytes, ...]:
        return tuple(_subkey(k, b"case-code-mac") for k in self._keys)

    @cached_property
    def code_key_ids(self) -> tuple[str, ...]:
        """Which key (and scheme) a case code's hash used, newest first: ``m`` and the key's
        fingerprint for the keyed hash. Hashes from before it carry the bare fingerprint
        (:attr:`key_ids`) and are scrypt (:meth:`legacy_code_hashes`)."""
        return tuple("m" + key_id[:15] for key_id in self.key_ids)

    def code_hash(self, code: str) -> str:
        """The keyed hash of a case code under the newest key."""
        return self.code_hashes(code)[0]

    def code_hashes(self, code: str) -> list[str]:
        """The keyed hash (HMAC-SHA256) of a case code under every configured key, newest
        first. Without the data key it cannot be computed, so a stolen database alone gives
        no way to test a guess; docs/security.md says why no slow hash is added on top."""
        return [hmac.new(k, code.encode(), hashlib.sha256).hexdigest() for k in self._code_keys]

    def legacy_code_hashes(self, code: str) -> list[str]:
        """The scrypt hash (keyed salt) codes were stored under before the keyed hash, under
        every key: looked up only while such cases exist, each moved to the keyed hash the
        first time its code is used."""
        return [
            hashlib.scrypt(code.encode(), salt=salt, n=self._code_hash_n, r=8, p=1, dklen=32).hex()
            for salt in self._code_salts
        ]
