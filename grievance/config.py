"""Settings: one frozen object read from the environment, checked when it is built."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.fernet import Fernet

from grievance.assignment_rules import AssignmentRulesError, Rule, load_rules
from grievance.contacts import ContactsError, HelpContact, load_contacts
from grievance.facts import CountryFacts, FactsError, load_facts

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LANGUAGES = ("en", "ne", "my")


class ConfigError(Exception):
    """A setting that is missing or wrong; the message says which and how to fix it."""


def _time_zone(env: Mapping[str, str], variable: str, default: str = "UTC") -> str:
    """An IANA time zone name ("Asia/Kuala_Lumpur") from ``variable``, checked against the
    zone database."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = env.get(variable, "").strip() or default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{variable}: unknown time zone {name!r}; use an IANA name such as "
            "Asia/Kuala_Lumpur, Asia/Kathmandu or UTC"
        ) from None
    return name


@dataclass(frozen=True)
class Oidc:
    """Single sign-on with OpenID Connect: the issuer (its discovery document is at
    ``<issuer>/.well-known/openid-configuration``), this app's client, and the button's name."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    label: str = "single sign-on"


def _oidc(env: Mapping[str, str]) -> Oidc | None:
    """The single sign-on settings: all three of issuer, client id and secret, or none."""
    names = ("GRIEVANCE_OIDC_ISSUER", "GRIEVANCE_OIDC_CLIENT_ID", "GRIEVANCE_OIDC_CLIENT_SECRET")
    issuer, client_id, secret = (env.get(name, "").strip() for name in names)
    if not (issuer or client_id or secret):
        return None
    missing = [
        name for name, value in zip(names, (issuer, client_id, secret), strict=True) if not value
    ]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} must be set as well: single sign-on needs the issuer, "
            "the client id and the client secret (or none of them)"
        )
    issuer = issuer.rstrip("/")
    local = issuer.startswith(("http://127.0.0.1", "http://localhost"))
    if not issuer.startswith("https://") and not local:
        raise ConfigError(f"GRIEVANCE_OIDC_ISSUER must be an https:// URL, not {issuer!r}")
    label = env.get("GRIEVANCE_OIDC_LABEL", "").strip()[:40] or "single sign-on"
    return Oidc(issuer, client_id, secret, label)


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
    # A sender who sends this many well-formed wrong codes in an hour is locked for the hour;
    # past the global rate (a campaign over many numbers) each sender's allowance halves.
    wrong_codes_per_sender_per_hour: int = 5
    wrong_codes_global_per_minute: int = 60
    sweep_interval_seconds: int = 30
    # Work younger than this is left to the job enqueued for it.
    sweep_grace_seconds: int = 30
    log_level: str = "INFO"
    log_format: str = "text"
    # Pacing: messages per second per sender (0 = unpaced). A US long code sends 1/s.
    sms_rate: float = 1.0
    whatsapp_rate: float = 10.0
    # Retries: backoff starts at this many seconds and doubles up to 5 minutes; a
    # message still undelivered this long after it was written is given up.
    send_retry_base_seconds: float = 2.0
    send_retry_max_seconds: float = 300.0
    # How long to wait for Twilio's API before treating a send as failed (and retrying it).
    twilio_timeout_seconds: float = 10.0
    send_give_up_seconds: int = 12 * 3600
    # A send claimed this long ago and never finished is sent again (a worker died).
    stuck_send_seconds: int = 120
    # WhatsApp templates for messages outside the 24-hour window: key -> language -> ContentSid.
    whatsapp_templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Retention (see docs/delivery.md, "Retention"): personal data of closed cases, of contacts
    # that never opened one, and inbound messages kept at Twilio.
    retention_closed_days: int = 180
    retention_no_case_days: int = 30
    # Seconds after the case code before the optional questions (who else, who recruited
    # you: flows/details.yaml); None ("off"): never asked.
    details_delay_seconds: int | None = 60
    twilio_delete_after_minutes: int = 60
    failed_job_ttl_days: int = 7
    # Web sessions: signed out after this long idle (at most 60 minutes), and after this long at all.
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    # TOTP is always required for admins and handlers; this requires it of suppliers and buyers too.
    mfa_all_roles: bool = False
    # How long an invitation or password-reset link works (hours).
    invite_hours: int = 72
    # Optional single sign-on with OpenID Connect.
    oidc: Oidc | None = None
    # The time zone staff pages show times in for someone who has not chosen their own.
    time_zone: str = "UTC"
    # Time frames per stage clock and severity (grievance.sla.DEFAULT_FRAMES unless configured).
    sla_frames: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Report cells under this count show as "<k" (and enough others are hidden too).
    report_min_cell: int = 10
    # Wellbeing pulse figures over fewer workers than this are withheld (the WWA rule: 10).
    pulse_min_cell: int = 10
    # Who runs the line, as named in the public rules of procedure.
    operator_name: str | None = None
    # APPEAL reopens a case closed at most this many days ago.
    appeal_days: int = 90
    # Help and emergency contacts given to a worker who may be in danger (GRIEVANCE_CONTACTS_FILE).
    contacts: tuple[HelpContact, ...] = ()
    contacts_file: Path | None = None
    # Facts about the countries workers work in, one file each (GRIEVANCE_FACTS_DIR), and the
    # country the line serves when a worker's own is not known yet (GRIEVANCE_COUNTRY).
    country_facts: CountryFacts = field(default_factory=CountryFacts)
    facts_dir: Path | None = None
    country: str | None = None
    # Evidence files suppliers upload: the largest accepted.
    evidence_max_bytes: int = 10 * 1024 * 1024
    # Staff email (escalations): unset writes emails to the log.
    smtp_url: str | None = None
    mail_from: str = "grievance@localhost"
    # Reverse proxies in front of the app (a TLS-terminating nginx or Caddy is one): their
    # X-Forwarded-For/-Proto/-Host/-Port headers are believed, from this many hops. 0: none.
    trusted_proxies: int = 0
    # Host names the app answers to besides PUBLIC_BASE_URL's, localhost and 127.0.0.1.
    trusted_hosts: tuple[str, ...] = ()
    # A monitor that sends this as a bearer token gets /healthz's figures; others get the status.
    health_token: str | None = None
    # The phone simulator (console channel only) answers loopback clients only, unless this is set.
    simulator_open: bool = False
    # Machine translation for staff (grievance/translation.py): a LibreTranslate-compatible API,
    # its key if it needs one, and how long a page waits for it. Unset URL: nothing translated.
    translation_url: str | None = None
    translation_key: str | None = None
    translation_timeout_seconds: float = 8.0
    # Who gets a new case (GRIEVANCE_ASSIGNMENT_FILE): rules in order; none: nobody until assigned.
    assignment_rules: tuple[Rule, ...] = ()
    assignment_file: Path | None = None
    # Voice (docs/voice.md): the longest spoken story a caller may record, in seconds.
    voice_record_seconds: int = 120
    # Machine-made draft prompts (`grievance voice prompts --generate`), apart from the
    # operator's recordings under locales/audio: made on each machine, never committed.
    voice_drafts_dir: Path = PROJECT_ROOT / "instance" / "voice-drafts"
    # Where "press 0" is put through during staffed hours; None: never (a message is taken).
    voice_staffed_number: str | None = None
    # When a person answers: weekday -> (start minute, end minute) ranges, in voice_timezone.
    voice_staffed_hours: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    voice_timezone: str = "UTC"
    # Numbers that are missed-call lines: a call is rejected (free for the caller where
    # rejected calls are) and the line calls back.
    missed_call_numbers: tuple[str, ...] = ()
    # Callbacks the line places in any hour, over all numbers: a flood of missed calls
    # must not make the line call strangers.
    voice_callbacks_per_hour: int = 30
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
            sweep_grace_seconds=_int(env, "GRIEVANCE_SWEEP_GRACE", 30),
            log_level=env.get("GRIEVANCE_LOG_LEVEL", "INFO").upper(),
            log_format=_choice(env, "GRIEVANCE_LOG_FORMAT", ("text", "json")),
            sms_rate=_float(env, "GRIEVANCE_SMS_RATE", 1.0),
            whatsapp_rate=_float(env, "GRIEVANCE_WHATSAPP_RATE", 10.0),
            send_retry_base_seconds=_float(env, "GRIEVANCE_SEND_RETRY_BASE", 2.0),
            send_retry_max_seconds=_float(env, "GRIEVANCE_SEND_RETRY_MAX", 300.0),
            twilio_timeout_seconds=_float(env, "GRIEVANCE_TWILIO_TIMEOUT", 10.0),
            send_give_up_seconds=int(_float(env, "GRIEVANCE_SEND_GIVE_UP_HOURS", 12.0) * 3600),
            stuck_send_seconds=_int(env, "GRIEVANCE_STUCK_SEND_SECONDS", 120),
            whatsapp_templates=_templates(env.get("GRIEVANCE_WHATSAPP_TEMPLATES")),
            retention_closed_days=_int(env, "GRIEVANCE_RETENTION_CLOSED_DAYS", 180),
            retention_no_case_days=_int(env, "GRIEVANCE_RETENTION_NO_CASE_DAYS", 30),
            details_delay_seconds=None
            if env.get("GRIEVANCE_DETAILS_DELAY", "").strip().lower() == "off"
            else _bounded(env, "GRIEVANCE_DETAILS_DELAY", 60, 0, 7 * 24 * 3600),
            twilio_delete_after_minutes=_int(env, "GRIEVANCE_TWILIO_DELETE_AFTER_MINUTES", 60),
            failed_job_ttl_days=_int(env, "GRIEVANCE_FAILED_JOB_TTL_DAYS", 7),
            session_idle_minutes=_bounded(env, "GRIEVANCE_SESSION_IDLE_MINUTES", 30, 1, 60),
            session_max_hours=_bounded(env, "GRIEVANCE_SESSION_MAX_HOURS", 12, 1, 24),
            mfa_all_roles=_choice(env, "GRIEVANCE_MFA_ALL_ROLES", ("false", "true")) == "true",
            invite_hours=_bounded(env, "GRIEVANCE_INVITE_HOURS", 72, 1, 24 * 30),
            oidc=_oidc(env),
            time_zone=_time_zone(env, "GRIEVANCE_TIME_ZONE"),
            sla_frames=_sla(env.get("GRIEVANCE_SLA_FILE")),
            appeal_days=_int(env, "GRIEVANCE_APPEAL_DAYS", 90),
            contacts=_contacts(env.get("GRIEVANCE_CONTACTS_FILE")),
            contacts_file=Path(env["GRIEVANCE_CONTACTS_FILE"])
            if env.get("GRIEVANCE_CONTACTS_FILE")
            else None,
            country_facts=_facts(env.get("GRIEVANCE_FACTS_DIR")),
            facts_dir=Path(env["GRIEVANCE_FACTS_DIR"]) if env.get("GRIEVANCE_FACTS_DIR") else None,
            country=_country(env.get("GRIEVANCE_COUNTRY")),
            report_min_cell=_bounded(env, "GRIEVANCE_REPORT_MIN_CELL", 10, 2, 1000),
            pulse_min_cell=_bounded(env, "GRIEVANCE_PULSE_MIN_CELL", 10, 2, 1000),
            operator_name=env.get("GRIEVANCE_OPERATOR_NAME") or None,
            evidence_max_bytes=_int(env, "GRIEVANCE_EVIDENCE_MAX_MB", 10) * 1024 * 1024,
            smtp_url=env.get("GRIEVANCE_SMTP_URL") or None,
            mail_from=env.get("GRIEVANCE_MAIL_FROM") or "grievance@localhost",
            trusted_proxies=_bounded(env, "GRIEVANCE_TRUSTED_PROXIES", 0, 0, 5),
            trusted_hosts=tuple(
                h.strip() for h in env.get("GRIEVANCE_TRUSTED_HOSTS", "").split(",") if h.strip()
            ),
            health_token=env.get("GRIEVANCE_HEALTH_TOKEN") or None,
            simulator_open=_choice(env, "GRIEVANCE_SIMULATOR_OPEN", ("false", "true")) == "true",
            translation_url=_translation_url(env.get("GRIEVANCE_TRANSLATION_URL")),
            translation_key=env.get("GRIEVANCE_TRANSLATION_KEY") or None,
            translation_timeout_seconds=_float(env, "GRIEVANCE_TRANSLATION_TIMEOUT", 8.0),
            assignment_rules=_assignment(env.get("GRIEVANCE_ASSIGNMENT_FILE")),
            assignment_file=Path(env["GRIEVANCE_ASSIGNMENT_FILE"])
            if env.get("GRIEVANCE_ASSIGNMENT_FILE")
            else None,
            voice_record_seconds=_bounded(env, "GRIEVANCE_VOICE_RECORD_SECONDS", 120, 10, 600),
            voice_drafts_dir=voice_drafts_dir(env, instance),
            voice_staffed_number=env.get("GRIEVANCE_VOICE_STAFFED_NUMBER", "").strip() or None,
            voice_staffed_hours=_staffed_hours(env.get("GRIEVANCE_VOICE_STAFFED_HOURS", "")),
            # Staffed hours are in the line's own time zone unless they are set apart.
            voice_timezone=_time_zone(
                env, "GRIEVANCE_VOICE_TIMEZONE", _time_zone(env, "GRIEVANCE_TIME_ZONE")
            ),
            missed_call_numbers=tuple(
                n.strip()
                for n in env.get("GRIEVANCE_MISSED_CALL_NUMBERS", "").split(",")
                if n.strip()
            ),
            voice_callbacks_per_hour=_bounded(
                env, "GRIEVANCE_VOICE_CALLBACKS_PER_HOUR", 30, 0, 10000
            ),
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


def _bounded(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = _int(env, name, default)
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or choices[0]).lower()
    if raw not in choices:
        raise ConfigError(f"{name} is one of {', '.join(choices)}; got {raw!r}")
    return raw


def _translation_url(raw: str | None) -> str | None:
    """The translation API's base URL (``/translate`` is added), checked; unset: none."""
    if not raw or not raw.strip():
        return None
    url = raw.strip().rstrip("/").removesuffix("/translate")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            "GRIEVANCE_TRANSLATION_URL is the base URL of a LibreTranslate server, like "
            f"http://127.0.0.1:5005 (the app posts to its /translate); got {raw!r}"
        )
    return url


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^([a-z]{3})(?:-([a-z]{3}))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def _staffed_hours(raw: str) -> dict[int, tuple[tuple[int, int], ...]]:
    """``mon-fri 09:00-17:00; sat 09:00-12:00``: weekday (0 = Monday) -> minute ranges."""
    hours: dict[int, list[tuple[int, int]]] = {}
    for part in (p.strip().lower() for p in raw.split(";")):
        if not part:
            continue
        found = _HOURS.match(part)
        if not found or found[1] not in DAYS or (found[2] and found[2] not in DAYS):
            raise ConfigError(
                f"GRIEVANCE_VOICE_STAFFED_HOURS: cannot read {part!r}; write days and hours "
                "like 'mon-fri 09:00-17:00; sat 09:00-12:00'"
            )
        first, last = DAYS.index(found[1]), DAYS.index(found[2] or found[1])
        start = int(found[3]) * 60 + int(found[4])
        end = int(found[5]) * 60 + int(found[6])
        if not 0 <= start < end <= 24 * 60 or last < first:
            raise ConfigError(
                f"GRIEVANCE_VOICE_STAFFED_HOURS: {part!r} ends before it starts; "
                "a range runs from its first day to its last, and from its start to its end"
            )
        for day in range(first, last + 1):
            hours.setdefault(day, []).append((start, end))
    return {day: tuple(ranges) for day, ranges in hours.items()}


def _contacts(path: str | None) -> tuple[HelpContact, ...]:
    """The help contacts file, checked; unset: none (the line says so)."""
    try:
        return load_contacts(Path(path) if path else None)
    except ContactsError as exc:
        raise ConfigError("GRIEVANCE_CONTACTS_FILE:\n" + "\n".join(exc.problems)) from None


def _assignment(path: str | None) -> tuple[Rule, ...]:
    """The assignment rules file, checked; unset: no rules (cases wait to be assigned)."""
    try:
        return load_rules(Path(path) if path else None)
    except AssignmentRulesError as exc:
        raise ConfigError("GRIEVANCE_ASSIGNMENT_FILE:\n" + "\n".join(exc.problems)) from None


def _facts(path: str | None) -> CountryFacts:
    """The country facts directory, checked; unset: no facts (the universal rights only)."""
    try:
        return load_facts(Path(path) if path else None)
    except FactsError as exc:
        raise ConfigError("GRIEVANCE_FACTS_DIR:\n" + "\n".join(exc.problems)) from None


def _country(raw: str | None) -> str | None:
    if not raw:
        return None
    code = raw.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ConfigError(f"GRIEVANCE_COUNTRY is an ISO 3166 country code like MY; got {raw!r}")
    return code


_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


def _templates(path: str | None) -> dict[str, dict[str, str]]:
    """Read the WhatsApp template map, a YAML file of ``key: {language: ContentSid}``."""
    if not path:
        return {}
    from grievance.yamlsource import LineDict, YamlError, load_file

    try:
        data = load_file(Path(path))
    except OSError as exc:
        raise ConfigError(
            f"GRIEVANCE_WHATSAPP_TEMPLATES: cannot read {path} ({exc.strerror})"
        ) from None
    except YamlError as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(data, LineDict):
        raise ConfigError(
            f"{path}:1: expected template keys, each mapping languages to ContentSids"
        )
    templates: dict[str, dict[str, str]] = {}
    for key, languages in data.items():
        if not isinstance(languages, LineDict):
            raise ConfigError(
                f"{path}:{data.line_of(key)}: template {key!r} must map language codes "
                "to ContentSids, e.g. `en: HX0123...`"
            )
        for language, sid in languages.items():
            if not isinstance(sid, str) or not _CONTENT_SID.match(sid):
                raise ConfigError(
                    f"{path}:{languages.line_of(language)}: {sid!r} is not a ContentSid "
                    "(HX and 32 hex digits, from Twilio's Content Template Builder)"
                )
        templates[key] = dict(languages)
    return templates


def _sla(path: str | None) -> dict[str, dict[str, str]]:
    """Read time frames from a YAML file of ``clock: {severity: duration}``; defaults otherwise."""
    from grievance import sla

    if not path:
        return {k: dict(v) for k, v in sla.DEFAULT_FRAMES.items()}
    from grievance.yamlsource import LineDict, YamlError, load_file

    try:
        data = load_file(Path(path))
    except OSError as exc:
        raise ConfigError(f"GRIEVANCE_SLA_FILE: cannot read {path} ({exc.strerror})") from None
    except YamlError as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(data, LineDict):
        raise ConfigError(f"{path}:1: expected time frames, e.g. `triage: {{P0: 1h, P1: 24h}}`")
    frames = {k: dict(v) for k, v in sla.DEFAULT_FRAMES.items()}
    for clock, per_severity in data.items():
        line = data.line_of(clock)
        if not isinstance(per_severity, LineDict):
            raise ConfigError(f"{path}:{line}: {clock}: map severities to durations (P1: 24h)")
        try:
            sla.validate({clock: {k: str(v) for k, v in per_severity.items()}})
        except sla.SlaError as exc:
            raise ConfigError(f"{path}:{line}: {exc}") from None
        frames[clock].update({k: str(v) for k, v in per_severity.items()})
    return frames


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


def voice_drafts_dir(env: Mapping[str, str], instance: Path | None = None) -> Path:
    """Where draft voice prompts are made and played from: ``GRIEVANCE_VOICE_DRAFTS_DIR``,
    else ``voice-drafts`` in the instance folder."""
    if env.get("GRIEVANCE_VOICE_DRAFTS_DIR"):
        return Path(env["GRIEVANCE_VOICE_DRAFTS_DIR"])
    folder = instance or Path(env.get("GRIEVANCE_INSTANCE_PATH") or PROJECT_ROOT / "instance")
    return folder / "voice-drafts"
