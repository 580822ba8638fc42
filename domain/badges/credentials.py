"""Badge awards as Open Badges 3.0 credentials (verifiable credentials, signed as VC-JWT).

The achievement is defined by its creator (the national committee for the national ladder,
the county for its own badges) and the credential is issued by the county. The pupil is named
by a salted hash only (`IdentityObject`, `hashed: true`): never by name or ID number; whoever
holds the identifier and the salt (the family) can prove it is theirs. A revoked award is
listed on the county's revocation list (`1EdTechRevocationList`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
NATIONAL = "中国少年先锋队全国工作委员会"


def key_id(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def jwks(key: Ed25519PrivateKey) -> dict[str, Any]:
    """The public key, as a JSON Web Key Set, for verifiers."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": key_id(key), "use": "sig",
                      "alg": "EdDSA"}]}  # fmt: skip


def identity(identifier: str, salt_key: bytes, award_id: int) -> dict[str, Any]:
    """The pupil as a salted hash: the salt is fixed per award, so the credential is stable."""
    salt = hmac.new(salt_key, f"credential-salt:{award_id}".encode(), hashlib.sha256).hexdigest()[
        :16
    ]
    digest = hashlib.sha256((identifier + salt).encode()).hexdigest()
    return {"type": "IdentityObject", "identityHash": f"sha256${digest}",
            "identityType": "identifier", "hashed": True, "salt": salt}  # fmt: skip


def credential(
    *,
    base_url: str,
    county_code: str,
    county_name: str,
    award: Any,
    badge: Any,
    subject: dict[str, Any],
) -> dict[str, Any]:
    """The OpenBadgeCredential of an award (unsigned)."""
    issuer = {"id": f"{base_url}/credentials/{county_code}/issuer", "type": ["Profile"],
              "name": f"{county_name}少工委"}  # fmt: skip
    creator = (
        {"id": f"{base_url}/credentials/national", "type": ["Profile"], "name": NATIONAL}
        if badge.national
        else issuer
    )
    achievement = {
        "id": f"{base_url}/credentials/{'national' if badge.national else county_code}"
        f"/achievements/{badge.code}",
        "type": ["Achievement"],
        "name": badge.name,
        "description": badge.criteria or badge.name,
        "criteria": {"narrative": badge.criteria or badge.name},
        "creator": creator,
    }
    if badge.icon:
        achievement["image"] = {"id": badge.icon, "type": "Image"}
    awarded = award.awarded_at or award.created_at
    return {
        "@context": CONTEXTS,
        "id": f"{base_url}/credentials/{county_code}/awards/{award.id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": awarded.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "name": badge.name,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [subject],
            "achievement": achievement,
            "term": f"{award.academic_year}—{award.academic_year + 1}学年",
        },
        "credentialStatus": {
            "id": f"{base_url}/credentials/{county_code}/revocations",
            "type": "1EdTechRevocationList",
        },
    }


def sign(document: dict[str, Any], key: Ed25519PrivateKey) -> str:
    """VC-JWT: the credential as the `vc` claim, with the registered claims it implies."""
    claims = {
        "iss": document["issuer"]["id"],
        "jti": document["id"],
        "nbf": int(dt.datetime.fromisoformat(document["validFrom"]).timestamp()),
        "sub": document["credentialSubject"]["identifier"][0]["identityHash"],
        "vc": document,
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": key_id(key), "typ": "JWT"})
