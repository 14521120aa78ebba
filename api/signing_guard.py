"""The signing key a server starts with must be the bureau's key on record (issue 14): a
server started with another key (a lost file regenerated, another machine's key, a wrong
FUNDLEDGER_SIGNING_KEY_PATH) would sign digests no published key verifies. It refuses to
start until the key is restored, or the change is recorded as a rotation
(`fundledger keys rotate`), an event in the store with both keys' fingerprints, who and when.

The key on record is the last rotation's new key; for a store whose key was never rotated,
the key of its newest signed digest; with neither, any key (the first digest records it).
"""

from __future__ import annotations

from pathlib import Path

from api.settings import Settings
from domain.ledger import FundLedger
from domain.signing_keys import fingerprint, keys_on_record
from projections import digests
from projections.database import ViewDatabase
from projections.signed_digests import SignedDigests


class SigningKeyRefused(RuntimeError):
    """The configured signing key is not the bureau's key on record."""


def key_on_record(ledger: FundLedger, db: ViewDatabase) -> str | None:
    """The raw public key (hex) that signs the bureau's digests, as its records say."""
    keys = keys_on_record(ledger)
    if keys is not None and keys.current:
        return keys.current
    newest = SignedDigests(db).listed(limit=1)
    return newest[0][0].public_key if newest else None


def configured_public_key(path: Path) -> str | None:
    """The public key of the key file at `path`, or None when there is no file yet."""
    if not path.exists():
        return None
    return digests.raw_public_hex(digests.signing_key(path).public_key())


def check_signing_key(settings: Settings, ledger: FundLedger, db: ViewDatabase) -> None:
    """Refuses (SigningKeyRefused) when the configured key differs from the one on record."""
    recorded = key_on_record(ledger, db)
    if recorded is None:
        return
    configured = configured_public_key(settings.signing_key_path)
    if configured == recorded:
        return
    found = f"holds key {fingerprint(configured)}" if configured else "does not exist"
    msg = (f"the signing key file {settings.signing_key_path} {found}, but the bureau's digests "
           f"are signed with key {fingerprint(recorded)}: restore that key file (or point "
           f"FUNDLEDGER_SIGNING_KEY_PATH at it), or record the change with "
           f"`fundledger keys rotate --by NAME --reason TEXT`")
    raise SigningKeyRefused(msg)


def trusted_public_keys(ledger: FundLedger, db: ViewDatabase) -> list[str]:
    """Every key that has signed the bureau's digests on record, oldest first: a digest signed
    before a rotation still verifies under the key it names."""
    keys = keys_on_record(ledger)
    found = list(keys.public_keys) if keys is not None else []
    recorded = key_on_record(ledger, db)
    if recorded and recorded not in found:
        found.append(recorded)
    return found
