"""The one Settings object. Every knob is an environment variable with the ``XIBU_`` prefix."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XIBU_", env_file=".env", extra="ignore")

    environment: str = Field(default="development", description="development | test | production")
    database_url: str = "sqlite:///var/xibu.db"
    data_dir: Path = Path("var")
    public_url: str = "http://127.0.0.1:8000"

    # Signs bearer tokens. Outside development it must be set explicitly: a random per-process
    # secret would log everyone out on restart and break several stateless app processes.
    secret_key: str = ""
    access_token_minutes: int = 30

    max_upload_bytes: int = 20 * 1024 * 1024

    # Job queue. Empty: derived from the database (SQLite file beside the data, or tables in
    # PostgreSQL), so the embedded default needs no extra server. "redis://…" uses Redis.
    queue_url: str = ""
    # 工作生活补贴 printed in agreements, yuan per month. The plan leaves the figure to local finance
    # (实施方案 三(二)1), so it is configuration, not code.
    monthly_allowance: int = 2500
    # LibreOffice instances for document conversion; 0 means one per core.
    converters: int = 0

    # Encrypts private keys at rest. XIBU_MASTER_KEY (the value) or XIBU_MASTER_KEY_FILE (a file
    # outside the database). In development a key file is generated in the data folder.
    master_key: str = ""
    master_key_file: Path | None = None
    # RFC 3161 timestamp authority; empty: the built-in TSA under our own CA.
    tsa_url: str = ""

    @model_validator(mode="after")
    def _require_secrets_outside_development(self) -> Settings:
        if not self.secret_key:
            if self.environment == "production":
                raise ValueError("XIBU_SECRET_KEY must be set in production")
            self.secret_key = _development_secret(self.data_dir)
        if self.environment == "production" and not (self.master_key or self.master_key_file):
            raise ValueError("XIBU_MASTER_KEY or XIBU_MASTER_KEY_FILE must be set in production")
        return self

    # Online signing (agreements). Party order per kind, e.g. XIBU_SIGNING_ORDER='{"agreement":
    # ["unit","county_office","volunteer"]}'; kinds left out keep doc_templates.kinds' default order.
    signing_order: dict[str, list[str]] = Field(default_factory=dict)
    signing_code_minutes: int = 10
    signing_code_resend_seconds: int = 60
    signing_code_max_attempts: int = 5
    signing_lock_minutes: int = 30
    # How signers are told: "outbox" (JSON files under <data>/outbox/, development and tests) or "smtp".
    notifier: str = "outbox"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "noreply@xibu.invalid"
    smtp_starttls: bool = True

    # Public verification by code (/v/{code}, /api/v1/verify/{code}): token buckets per client IP,
    # in each process's memory (service/verification/ratelimit.py; N processes allow N times as much).
    verify_lookups_per_minute: float = 60
    verify_lookup_burst: int = 30
    # The identity check (full name or ID number → 一致/不一致) is what a guesser would hammer: stricter,
    # per client IP and, whatever the addresses, per document.
    verify_identity_per_hour: float = 20
    verify_identity_burst: int = 5
    verify_identity_per_document_per_hour: float = 30

    # Derived files that are expensive to build and safe to share (pre-subset stamp fonts).
    cache_dir: Path | None = None

    @property
    def cache_path(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _development_secret(data_dir: Path) -> str:
    """A secret kept in the data folder, so development tokens survive a restart."""
    path = data_dir / "secret.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
