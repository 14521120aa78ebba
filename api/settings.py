"""Configuration, read once from the environment into one typed object."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/fundledger.db"
DEFAULT_BUREAU = "HOME"
POSTGRES_IDENTIFIER_LENGTH_MAX = 63
# The ledger application's name, upper-cased, as the eventsourcing library prefixes its keys.
LEDGER_ENV_PREFIX = "FUNDLEDGER_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUNDLEDGER_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    postgres_pool_size: int = Field(default=10, ge=1, le=200)
    postgres_schema: str = ""
    signing_key_path: Path = Path("./var/bureau-signing-key.pem")
    # The key that seals snapshots (domain/snapshot_seal.py): outside the database, by
    # default beside the signing key.
    snapshot_key_path: Path | None = None
    request_body_bytes_max: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Slow clients (api/read_timeouts.py, docs/security.md): a request's headers must arrive
    # within this many seconds of its first byte (or of the connection's opening) ...
    header_read_seconds: float = Field(default=10.0, gt=0, le=300)
    # ... and its body within this many of the headers' end (10 MiB at ~350 KB/s).
    body_read_seconds: float = Field(default=30.0, gt=0, le=3600)
    read_wait_seconds_max: float = Field(default=5.0, ge=0, le=60)
    # A dashboard login lasts this long, whatever the browser keeps (api/dashboard/workplace).
    dashboard_session_seconds_max: int = Field(default=8 * 3600, ge=1, le=7 * 86400)
    # /healthz answers 503 when the views are further behind than this, or have not moved
    # for this long while behind (docs/reliability.md).
    health_views_lag_events_max: int = Field(default=100_000, ge=1)
    health_views_stall_seconds_max: float = Field(default=60.0, gt=0)
    # Check each pooled connection with a round trip before use. Off by default: a connection
    # broken by a database restart fails its first statement, which the library retries on a
    # fresh connection, so the check only costs a round trip on every request.
    postgres_pre_ping: bool = False
    # Bureaus (issue 15, docs/architecture.md "Bureaus"). The configured store holds the books
    # of `bureau` (the default for paths without /v1/bureaus/{code}) and the bureau registry;
    # every other bureau's books are a schema of their own on PostgreSQL (or a file of their
    # own beside this one on SQLite), unless `bureau_database_urls` names another server for it.
    bureau: str = DEFAULT_BUREAU
    bureau_database_urls: dict[str, str] = Field(default_factory=dict)
    bureau_pool_size: int = Field(default=1, ge=1, le=50)  # each bureau opened: a pool of its own
    # A streaming replica of the PostgreSQL server (scripts/replica.sh, docs/deployment.md): when
    # set, this process reads its views there (balances, lists, reports, the dashboard), while
    # the ledger's writes and the view runner stay on `database_url`. Same database and schemas.
    views_read_url: str = ""

    @field_validator("signing_key_path", "snapshot_key_path")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        """Resolved once, when the settings are read: a process started from another working
        directory must not silently make itself a new key."""
        return None if path is None else path.expanduser().resolve()

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        scheme = urlsplit(url).scheme
        if scheme not in ("sqlite", "postgresql", "postgres"):
            msg = "FUNDLEDGER_DATABASE_URL must start with sqlite:/// or postgresql://"
            raise ValueError(msg)
        return url

    @model_validator(mode="after")
    def _replica_of_postgres(self) -> Settings:
        if self.views_read_url and not (
                self.is_postgres and urlsplit(self.views_read_url).scheme in ("postgresql", "postgres")):
            msg = ("FUNDLEDGER_VIEWS_READ_URL must be a postgresql:// URL, a streaming replica of "
                   "FUNDLEDGER_DATABASE_URL's PostgreSQL server")
            raise ValueError(msg)
        return self

    @field_validator("bureau_database_urls")
    @classmethod
    def _known_schemes(cls, urls: dict[str, str]) -> dict[str, str]:
        for url in urls.values():
            cls._known_scheme(url)
        return urls

    def for_bureau(self, code: str) -> Settings:
        """The settings of one bureau's books: its store (a schema or a file of its own, or the
        server configured for it), its signing and snapshot keys (a directory of its own)."""
        if code == self.bureau:
            return self
        slug = re.sub(r"[^a-z0-9]+", "_", code.lower()).strip("_")
        keys = self.signing_key_path.parent / "bureaus" / code
        url = self.bureau_database_urls.get(code, self.database_url)
        changes: dict[str, object] = {
            "bureau": code, "bureau_database_urls": {}, "database_url": url,
            # The replica follows the configured server only: a bureau on another has none.
            "views_read_url": "" if code in self.bureau_database_urls
            else self.views_read_url,
            "postgres_pool_size": self.bureau_pool_size,
            "signing_key_path": keys / self.signing_key_path.name,
            "snapshot_key_path": None if self.snapshot_key_path is None
            else keys / self.snapshot_key_path.name,
        }
        if urlsplit(url).scheme in ("postgresql", "postgres"):
            prefix = f"{self.postgres_schema}_" if self.postgres_schema else ""
            changes["postgres_schema"] = f"{prefix}b_{slug}"[:POSTGRES_IDENTIFIER_LENGTH_MAX]
        elif code not in self.bureau_database_urls:
            path = Path(unquote(url.split(":///", 1)[1]))
            changes["database_url"] = f"sqlite:///{path.with_name(f'{path.stem}.{code}{path.suffix}')}"
        return self.model_copy(update=changes)

    @property
    def reads_replica(self) -> bool:
        return bool(self.views_read_url)

    def views_reading(self) -> Settings:
        """The settings the views are read with: the replica's server, the same database and
        schema, when one is configured; else these."""
        if not self.reads_replica:
            return self
        return self.model_copy(update={"database_url": self.views_read_url,
                                       "views_read_url": ""})

    @property
    def is_postgres(self) -> bool:
        return urlsplit(self.database_url).scheme in ("postgresql", "postgres")

    @property
    def snapshot_key_file(self) -> Path:
        """Resolved once, absolute: a server started from another directory finds the same key."""
        path = self.snapshot_key_path or self.signing_key_path.parent / "snapshot-seal.key"
        return path.expanduser().resolve()

    def eventsourcing_env(self, *, create_tables: bool = True) -> dict[str, str]:
        """The one place where the eventsourcing library's configuration keys appear.
        `create_tables=False`: the store's tables exist already, and another process may be
        opening it at the same moment (a rebuild's parts): PostgreSQL refuses two processes'
        catalog changes of the same table at once ("tuple concurrently updated"), even when
        both would change nothing."""
        parts = urlsplit(self.database_url)
        if not self.is_postgres:
            # sqlite:///relative/path or sqlite:////absolute/path, as SQLAlchemy spells them.
            path = Path(unquote(self.database_url.split(":///", 1)[1]))
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                # The books are personal data (payees): readable by the bureau's account only.
                # SQLite gives its -wal and -shm files the database file's permissions.
                path.touch(mode=0o600, exist_ok=True)
            return _unshadowed({
                "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "30",
                "FUNDLEDGER_SNAPSHOT_KEY_PATH": str(self.snapshot_key_file)})
        env = {
            # The library's, with the snapshots sent faster (api/event_store.py).
            "PERSISTENCE_MODULE": "api.event_store:BureauPostgresFactory",
            "POSTGRES_DBNAME": unquote(parts.path.removeprefix("/")) or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
            # Also how long a request waits for a pooled connection, per attempt; the library
            # makes ten attempts, so a request meeting a stopped database waits about 10 × this.
            "POSTGRES_CONNECT_TIMEOUT": "2",
            "POSTGRES_PRE_PING": "y" if self.postgres_pre_ping else "n",
            # A large save (a bulk import) as one COPY: api/event_store.py says why.
            "APPLICATION_RECORDER_TOPIC": "api.event_store:CopyingPostgresRecorder",
            "FUNDLEDGER_SNAPSHOT_KEY_PATH": str(self.snapshot_key_file),
        }
        if self.postgres_schema:
            env["POSTGRES_SCHEMA"] = self.postgres_schema
        if not create_tables:
            env["CREATE_TABLE"] = "no"
        return _unshadowed(env)


def _unshadowed(env: dict[str, str]) -> dict[str, str]:
    """`env` with each library key also under the ledger's prefix. The library reads
    `FUNDLEDGER_POSTGRES_SCHEMA` (the application's name + key) before `POSTGRES_SCHEMA`, and
    from the process environment too, where `FUNDLEDGER_POSTGRES_SCHEMA` is this deployment's
    own setting: the default bureau's schema. Unless the prefixed keys are given, another
    bureau's ledger would read and write the default bureau's events (issue 15)."""
    return env | {f"{LEDGER_ENV_PREFIX}{key}": value for key, value in env.items()
                  if not key.startswith(LEDGER_ENV_PREFIX)}
