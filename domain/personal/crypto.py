"""Encryption of personal fields and the keyed hashes that find them.

A field is encrypted with AES-256-GCM under the current data key and stored as
`<key id>:<base64(nonce || ciphertext)>`, so that a rotated key still decrypts what it wrote.
The keyed hash (HMAC-SHA256 under a separate key) is what a lookup compares, so a phone
number or ID number can be found without being decrypted or stored in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from redscarf.errors import RedscarfError


class UndecryptableField(RedscarfError):
    code = "UNDECRYPTABLE_FIELD"
    message = "加密字段无法解密：密钥缺失或数据已损坏"


@dataclass(frozen=True)
class FieldCipher:
    """Encrypts under the first key; decrypts under whichever key wrote the value."""

    keys: dict[str, bytes]
    current: str
    hash_key: bytes

    @classmethod
    def parse(cls, data_keys: str, hash_key: str) -> FieldCipher:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in data_keys.split(","):
            key_id, _, encoded = item.strip().partition(":")
            key = base64.b64decode(encoded)
            if not key_id or len(key) != 32:
                raise ValueError("data_keys: each key is `id:base64(32 bytes)`")
            keys[key_id] = key
            order.append(key_id)
        hashing = base64.b64decode(hash_key)
        if len(hashing) < 32:
            raise ValueError("hash_key: base64 of at least 32 bytes")
        return cls(keys=keys, current=order[0], hash_key=hashing)

    def encrypt(self, value: str, *, context: str) -> str:
        """`context` (e.g. "users.phone") is bound to the ciphertext: it cannot be moved."""
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, value.encode(), context.encode())
        return f"{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, *, context: str) -> str:
        key_id, _, encoded = stored.partition(":")
        key = self.keys.get(key_id)
        if key is None:
            raise UndecryptableField(f"缺少编号为 {key_id} 的数据密钥")
        raw = base64.b64decode(encoded)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            raise UndecryptableField() from None

    def needs_reencryption(self, stored: str) -> bool:
        return not stored.startswith(f"{self.current}:")

    def keyed_hash(self, value: str, *, context: str) -> bytes:
        return hmac.new(self.hash_key, f"{context}\0{value}".encode(), hashlib.sha256).digest()


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def mask_phone(phone: str) -> str:
    """138****5678: the operator and the country code of a number stay readable."""
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:] if len(phone) >= 7 else "***"
