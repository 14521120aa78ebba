"""Signed digests: the bureau's signed statement of its history's head at a position.

A digest names a position, the chain's link at that position and the time it was taken,
signed with the bureau's Ed25519 key. An auditor keeps the file; later, recomputing the chain
from the event store up to that position and finding the same link proves that nothing up
to it was altered, removed or inserted since — even if the journal was rewritten too.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from projections.hash_chain import CHAIN_ALGORITHM, EventTable, Progress, chain_head
from projections.journal import JOURNAL_TABLE

if TYPE_CHECKING:
    from projections.database import ViewDatabase

KEY_FILE_MODE = 0o600  # the private key is readable by its owner alone
DIGEST_FILE_BYTES_MAX = 64 * 1024


class DigestInvalid(ValueError):
    """A digest file that is not one, or whose signature does not hold."""


@dataclass(frozen=True)
class Digest:
    """(position, head hash, time), with what the signature covers spelled out."""

    algorithm: str
    position: int
    head_hash: str
    events: int
    signed_at: str
    public_key: str  # raw Ed25519 public key, hex: which key signed it
    signature: str = ""  # hex Ed25519 signature over `payload()`

    def payload(self) -> bytes:
        """The canonical bytes the signature covers: every field but the signature."""
        fields = asdict(self)
        del fields["signature"]
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Digest:
        try:
            data: Any = json.loads(text)
            return cls(algorithm=str(data["algorithm"]), position=int(data["position"]),
                       head_hash=str(data["head_hash"]), events=int(data["events"]),
                       signed_at=str(data["signed_at"]), public_key=str(data["public_key"]),
                       signature=str(data["signature"]))
        except (ValueError, KeyError, TypeError) as error:
            msg = f"not a digest file: {error}"
            raise DigestInvalid(msg) from None

    @classmethod
    def read(cls, path: Path) -> Digest:
        if path.stat().st_size > DIGEST_FILE_BYTES_MAX:
            msg = f"{path} is larger than a digest can be"
            raise DigestInvalid(msg)
        return cls.from_json(path.read_text(encoding="utf-8"))


def signing_key(path: Path) -> Ed25519PrivateKey:
    """The bureau's private key; created on first use, readable by its owner only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            # O_EXCL: two processes starting at once must not each write a different key.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
        except FileExistsError:
            return signing_key(path)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        public_key_path(path).write_bytes(public_pem(key.public_key()))
        return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        msg = f"{path} does not hold an Ed25519 private key"
        raise DigestInvalid(msg)
    return loaded


def public_key_path(key_path: Path) -> Path:
    """Where the bureau publishes its public key: beside the private one, `.pub.pem`."""
    return key_path.with_name(key_path.stem + ".pub.pem")


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_from_pem(pem: bytes) -> Ed25519PublicKey:
    loaded = serialization.load_pem_public_key(pem)
    if not isinstance(loaded, Ed25519PublicKey):
        msg = "not an Ed25519 public key"
        raise DigestInvalid(msg)
    return loaded


def raw_public_hex(key: Ed25519PublicKey) -> str:
    """The raw public key, hex: how a digest names the key that signed it."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def sign(key: Ed25519PrivateKey, position: int, head_hash: str, events: int,
         now: datetime | None = None) -> Digest:
    """A digest of the chain's head at `position`, signed now (UTC)."""
    signed_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
    unsigned = Digest(CHAIN_ALGORITHM, position, head_hash, events, signed_at,
                      raw_public_hex(key.public_key()))
    return Digest(**{**asdict(unsigned), "signature": key.sign(unsigned.payload()).hex()})


def check_signature(digest: Digest, trusted: Ed25519PublicKey) -> None:
    """Refuses a digest not signed by the trusted key, or changed after signing."""
    if digest.algorithm != CHAIN_ALGORITHM:
        msg = f"digest uses {digest.algorithm}, this ledger chains with {CHAIN_ALGORITHM}"
        raise DigestInvalid(msg)
    if digest.public_key != raw_public_hex(trusted):
        msg = "digest was signed by another key than the bureau's"
        raise DigestInvalid(msg)
    try:
        trusted.verify(bytes.fromhex(digest.signature), digest.payload())
    except (InvalidSignature, ValueError):
        msg = "digest signature does not verify: the file was changed or forged"
        raise DigestInvalid(msg) from None


@dataclass(frozen=True)
class DigestCheck:
    """Whether history up to a digest's position is the history the digest was signed over."""

    ok: bool
    position: int
    expected_hash: str
    recomputed_hash: str
    reason: str


def check_history(digest: Digest, events: EventTable, trusted: Ed25519PublicKey,
                  progress: Progress | None = None) -> DigestCheck:
    """Checks the signature, then recomputes the chain from the event store up to the digest's
    position and compares its link with the one the bureau signed. The journal is not read:
    a rewritten journal cannot make a changed history pass."""
    try:
        check_signature(digest, trusted)
    except DigestInvalid as error:
        return DigestCheck(False, digest.position, digest.head_hash, "", str(error))
    count, last, head = chain_head(events, digest.position, progress)
    if last != digest.position:
        reason = (f"the event at position {digest.position} is missing (the last one up to it "
                  f"is at {last})")
        return DigestCheck(False, digest.position, digest.head_hash, head, reason)
    if head != digest.head_hash:
        reason = f"history up to position {digest.position} was changed ({count} events rehashed)"
        return DigestCheck(False, digest.position, digest.head_hash, head, reason)
    return DigestCheck(True, digest.position, digest.head_hash, head,
                       f"history up to position {digest.position} is unchanged ({count} events)")


def digest_of_journal(db: ViewDatabase, key: Ed25519PrivateKey) -> Digest:
    """Signs the journal's head: its last position, that position's link and the row count."""
    with db.snapshot():
        found = db.rows(f"SELECT position, hash FROM {JOURNAL_TABLE} "  # noqa: S608
                        "ORDER BY position DESC LIMIT 1")
        count = int(db.scalar(f"SELECT COUNT(*) FROM {JOURNAL_TABLE}") or 0)  # noqa: S608
    if not found:
        msg = "the journal is empty: there is no history to sign yet"
        raise DigestInvalid(msg)
    position, head_hash = found[0]
    return sign(key, int(position), str(head_hash), count)


def public_key_from_raw_hex(text: str) -> Ed25519PublicKey:
    """A public key as a digest names it (raw, hex)."""
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError as error:
        msg = f"not an Ed25519 public key: {error}"
        raise DigestInvalid(msg) from None
