"""Settings: one frozen object read from the environment, checked when it is built."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LANGUAGES = ("en", "ne", "my")


class ConfigError(Exception):
    """A setting that is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the application reads from its environment."""

    database_url: str
    secret_key: str
    data_keys: tuple[str, ...]
    instance_path: Path
    redis_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_sms_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    public_base_url: str = "http://localhost:5000"
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    flows_dir: Path = PROJECT_ROOT / "flows"
    locales_dir: Path = PROJECT_ROOT / "locales"
    # In-process jobs: "thread" runs them on a background thread right after the
    # commit (grievance serve); "sync" runs them inline (tests, grievance simulate).
    inline_jobs: str = "thread"
    # scrypt cost for case codes: n=2**14 takes ~40 ms here; tests may lower it.
    code_hash_n: int = 2**14
    wrong_codes_per_sender_per_hour: int = 5
    wrong_codes_global_per_minute: int = 60
    sweep_interval_seconds: int = 30
    log_level: str = "INFO"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def twilio_enabled(self) -> bool:
        """True when Twilio credentials are configured; otherwise the console channel is used."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite (serial processing per contact, no row locks)."""
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some settings changed (tests, the CLI)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        instance_path: Path | None = None,
        generate_missing_secrets: bool = False,
    ) -> Settings:
        """Build settings from ``environ``; missing secrets fail unless ``generate_missing_secrets``."""
        env = dict(os.environ if environ is None else environ)
        instance = Path(
            env.get("GRIEVANCE_INSTANCE_PATH") or instance_path or PROJECT_ROOT / "instance"
        )
        notes: list[str] = []
        secret_key = env.get("SECRET_KEY") or _stored_secret(
            instance, "secret_key", secrets.token_urlsafe(48), generate_missing_secrets, notes
        )
        raw_keys = env.get("GRIEVANCE_DATA_KEY") or _stored_secret(
            instance, "data_key", Fernet.generate_key().decode(), generate_missing_secrets, notes
        )
        if not secret_key:
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random value, for example: "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        if not raw_keys:
            raise ConfigError(
                "GRIEVANCE_DATA_KEY is not set. It encrypts phone numbers and messages at rest. "
                'Create one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"'
            )
        data_keys = tuple(k.strip() for k in raw_keys.replace(",", " ").split() if k.strip())
        for i, key in enumerate(data_keys, start=1):
            try:
                Fernet(key)
            except (ValueError, TypeError):
                raise ConfigError(
                    f"GRIEVANCE_DATA_KEY: key {i} is not a Fernet key (32 url-safe base64-encoded bytes). "
                    "List keys newest first, separated by commas; keep old keys until rotation has finished."
                ) from None
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'grievance.db'}"
        if database_url.startswith("postgres://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
        elif database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        languages = tuple(
            x.strip()
            for x in env.get("GRIEVANCE_LANGUAGES", ",".join(DEFAULT_LANGUAGES)).split(",")
            if x.strip()
        )
        if not languages:
            raise ConfigError(
                "GRIEVANCE_LANGUAGES is empty: list BCP-47 codes, for example en,ne,my"
            )
        public = env.get("PUBLIC_BASE_URL", "http://localhost:5000").rstrip("/")
        if not public.startswith(("http://", "https://")):
            raise ConfigError(
                f"PUBLIC_BASE_URL must start with https:// (it is the URL Twilio calls); got {public!r}"
            )
        twilio_sid = env.get("TWILIO_ACCOUNT_SID") or None
        twilio_token = env.get("TWILIO_AUTH_TOKEN") or None
        if bool(twilio_sid) != bool(twilio_token):
            raise ConfigError(
                "Set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither (console channel)."
            )
        sms_from = env.get("TWILIO_SMS_FROM") or None
        service_sid = env.get("TWILIO_MESSAGING_SERVICE_SID") or None
        whatsapp_from = env.get("TWILIO_WHATSAPP_FROM") or None
        if twilio_sid and not (sms_from or service_sid or whatsapp_from):
            raise ConfigError(
                "Twilio is configured but nothing to send from: set TWILIO_SMS_FROM, "
                "TWILIO_MESSAGING_SERVICE_SID or TWILIO_WHATSAPP_FROM."
            )
        inline = env.get("GRIEVANCE_INLINE_JOBS", "thread")
        if inline not in ("thread", "sync"):
            raise ConfigError("GRIEVANCE_INLINE_JOBS is 'thread' or 'sync'")
        return cls(
            database_url=database_url,
            secret_key=secret_key,
            data_keys=data_keys,
            instance_path=instance,
            redis_url=env.get("REDIS_URL") or None,
            twilio_account_sid=twilio_sid,
            twilio_auth_token=twilio_token,
            twilio_sms_from=sms_from,
            twilio_messaging_service_sid=service_sid,
            twilio_whatsapp_from=whatsapp_from,
            twilio_api_base_url=(env.get("TWILIO_API_BASE_URL") or "https://api.twilio.com").rstrip(
                "/"
            ),
            public_base_url=public,
            languages=languages,
            flows_dir=Path(env.get("GRIEVANCE_FLOWS_DIR") or PROJECT_ROOT / "flows"),
            locales_dir=Path(env.get("GRIEVANCE_LOCALES_DIR") or PROJECT_ROOT / "locales"),
            inline_jobs=inline,
            code_hash_n=_int(env, "GRIEVANCE_CODE_HASH_N", 2**14),
            sweep_interval_seconds=_int(env, "GRIEVANCE_SWEEP_INTERVAL", 30),
            log_level=env.get("GRIEVANCE_LOG_LEVEL", "INFO").upper(),
            extra={"generated": ",".join(notes)} if notes else {},
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _stored_secret(instance: Path, name: str, fresh: str, generate: bool, notes: list[str]) -> str:
    """Read a secret kept under ``instance/``, creating it there when allowed (grievance serve)."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    if not generate:
        return ""
    instance.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(fresh + "\n")
    notes.append(str(path))
    return fresh
