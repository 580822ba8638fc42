"""The service's secrets: from configuration, or generated once for a development install.

With `REDSCARF_SECRET_KEY`, `REDSCARF_DATA_KEYS` and `REDSCARF_HASH_KEY` unset (a newcomer's
machine), keys are generated into `data_dir/secrets.json` (mode 600) on first use and read
back afterwards, so the service, the worker and the CLI of one install agree.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.personal.crypto import FieldCipher, new_key
from redscarf.settings import Settings

SECRETS_FILE = "secrets.json"


@dataclass(frozen=True)
class Keys:
    token_secret: str
    cipher: FieldCipher
    credential_key: Ed25519PrivateKey
    """Signs the badges' verifiable credentials (Open Badges 3.0); its public half is
    published at `/credentials/keys`."""


def credential_key(secret: str, configured: str | None) -> Ed25519PrivateKey:
    """`REDSCARF_CREDENTIAL_KEY` (base64 of 32 bytes), else derived from the secret key (HKDF),
    so one install's service and workers sign alike without one more secret to keep."""
    if configured:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(configured))
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"redscarf/credentials/ed25519/v1"
    ).derive(secret.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def _generated(data_dir: Path) -> dict[str, str]:
    path = data_dir.expanduser() / SECRETS_FILE
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "secret_key": secrets.token_urlsafe(48),
        "data_keys": f"k1:{new_key()}",
        "hash_key": new_key(),
    }
    # Written aside, then linked into place: of two processes starting at once, one links
    # its file and the other reads that complete file back.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secrets-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(values, out)
        os.link(tmp, path)
    except FileExistsError:
        return _generated(data_dir)
    finally:
        os.unlink(tmp)
    return values


def load_keys(settings: Settings) -> Keys:
    configured = {
        "secret_key": settings.secret_key,
        "data_keys": settings.data_keys,
        "hash_key": settings.hash_key,
    }
    if not all(configured.values()):
        generated = _generated(settings.data_dir)
        configured = {k: v or generated[k] for k, v in configured.items()}
    secret = configured["secret_key"] or ""
    if len(secret) < 32:
        raise ValueError("REDSCARF_SECRET_KEY must be at least 32 characters")
    return Keys(
        token_secret=secret,
        cipher=FieldCipher.parse(configured["data_keys"] or "", configured["hash_key"] or ""),
        credential_key=credential_key(secret, settings.credential_key),
    )
