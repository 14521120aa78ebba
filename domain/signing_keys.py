"""The bureau's digest-signing keys on record (issue 14): which public key signs its digests
now, and every rotation — old and new key, who, when (the event's time), why. A server with a
different key than the one on record refuses to start (api/signing_guard.py) unless the
rotation is recorded here first; digests signed by an earlier key still verify under it,
because the record names it."""

from __future__ import annotations

import hashlib
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.application import CommandApplication
from domain.errors import InvalidInput
from domain.natural_keys import natural_id
from domain.rules import check_text, reason_text

HISTORY_ID = natural_id("signing-keys")


def fingerprint(public_key_hex: str) -> str:
    """A key's fingerprint as people compare it: SHA-256 of the raw public key, 16 bytes hex."""
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:32]


class SigningKeys(Aggregate):
    @staticmethod
    def create_id() -> UUID:
        return HISTORY_ID

    @event("Opened")
    def __init__(self) -> None:
        self.public_keys: list[str] = []  # raw Ed25519 public keys, hex, oldest first

    @event("Rotated")
    def rotate(self, old_public_key: str, new_public_key: str, old_fingerprint: str,
               new_fingerprint: str, rotated_by: str, reason: str) -> None:
        if not self.public_keys and old_public_key:
            self.public_keys.append(old_public_key)
        self.public_keys.append(new_public_key)

    @property
    def current(self) -> str | None:
        return self.public_keys[-1] if self.public_keys else None


def keys_on_record(app: CommandApplication) -> SigningKeys | None:
    return app.find(SigningKeys, HISTORY_ID)


def record_rotation(app: CommandApplication, old_public_key: str | None, new_public_key: str,
                    rotated_by: str, reason: str) -> SigningKeys:
    """Records that `new_public_key` signs the bureau's digests from now on, replacing
    `old_public_key` (None: no key was on record)."""
    rotated_by = check_text(rotated_by, "rotated_by", 200)
    reason = reason_text(reason)
    if old_public_key == new_public_key:
        msg = f"the key {fingerprint(new_public_key)} is already the bureau's signing key"
        raise InvalidInput(msg)
    keys = keys_on_record(app) or SigningKeys()
    old = old_public_key or ""
    keys.rotate(old, new_public_key, fingerprint(old) if old else "", fingerprint(new_public_key),
                rotated_by, reason)
    app.save(keys)
    return keys
