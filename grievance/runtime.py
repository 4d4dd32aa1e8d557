"""The runtime: everything a request, a job or a command needs, built once per process.

Web, worker and CLI share it. Jobs running under ``rq worker`` find it with
:func:`current`, which builds it from the environment on first use.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

from grievance.channels.base import Channel
from grievance.config import Settings
from grievance.conversation import Engine, FlowError, load_flowset
from grievance.crypto import DataProtector
from grievance.db import make_engine, make_session_factory
from grievance.language import Catalog, load_catalogs
from grievance.mail import ConsoleMailer, Mailer, SmtpMailer
from grievance.pacing import LocalPacer, Pacer, RedisPacer
from grievance.queue import InProcessQueue, JobQueue, RQQueue, job_function
from grievance.translation import LibreTranslate, Translator

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Settings plus the long-lived objects built from them."""

    settings: Settings
    db: DbEngine
    sessions: sessionmaker[Session]
    protector: DataProtector
    channel: Channel
    engine: Engine
    catalogs: dict[str, Catalog]
    queue: JobQueue = field(init=False)
    pacer: Pacer = field(init=False)
    mailer: Mailer = field(init=False)
    # Machine translation for staff; None when GRIEVANCE_TRANSLATION_URL is not set.
    translator: Translator | None = field(init=False, default=None)

    @property
    def channel_name(self) -> str:
        """``twilio`` or ``console`` (or ``fake`` in tests)."""
        return self.channel.name

    def status_callback_url(self) -> str | None:
        """Where Twilio should post delivery updates."""
        return (
            f"{self.settings.public_base_url}/twilio/status"
            if self.channel.name == "twilio"
            else None
        )

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()


def build_channel(settings: Settings) -> Channel:
    """Twilio when credentials are set, otherwise the console channel."""
    if settings.twilio_enabled:
        from grievance.channels.twilio import TwilioChannel

        assert settings.twilio_account_sid
        assert settings.twilio_auth_token
        return TwilioChannel(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            sms_from=settings.twilio_sms_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            whatsapp_from=settings.twilio_whatsapp_from,
            api_base_url=settings.twilio_api_base_url,
            timeout=settings.twilio_timeout_seconds,
        )
    from grievance.channels.console import ConsoleChannel

    return ConsoleChannel()


def build_runtime(settings: Settings, channel: Channel | None = None) -> Runtime:
    """Load flows and catalogs (failing with file:line problems) and connect everything."""
    flowset, problems = load_flowset(settings.flows_dir)
    if problems or flowset is None:
        raise FlowError(problems)
    catalogs = load_catalogs(settings.locales_dir, settings.languages)
    engine = Engine(
        flowset,
        catalogs,
        settings.languages,
        new_id=lambda: uuid.uuid4().hex,
        # Danger words of every catalog present, not only the deployment's languages.
        known_catalogs=load_catalogs(settings.locales_dir),
    )
    db = make_engine(settings.database_url)
    runtime = Runtime(
        settings=settings,
        db=db,
        sessions=make_session_factory(db),
        protector=DataProtector(settings.data_keys, settings.code_hash_n),
        channel=channel or build_channel(settings),
        engine=engine,
        catalogs=catalogs,
    )
    if settings.smtp_url:
        runtime.mailer = SmtpMailer(settings.smtp_url, settings.mail_from)
    else:
        runtime.mailer = ConsoleMailer()
    if settings.translation_url:
        runtime.translator = LibreTranslate(
            settings.translation_url,
            settings.translation_key,
            timeout=settings.translation_timeout_seconds,
        )
    if settings.redis_url:
        queue = RQQueue(settings.redis_url, timedelta(days=settings.failed_job_ttl_days))
        runtime.queue, runtime.pacer = queue, RedisPacer(queue.redis)
    else:
        runtime.queue = InProcessQueue(
            lambda job, args: run_job(runtime, job, args), settings.inline_jobs
        )
        runtime.pacer = LocalPacer()
    return runtime


def run_job(runtime: Runtime, job: str, args: tuple[int, ...]) -> Any:
    """Run a job function of :mod:`grievance.jobs` with an explicit runtime."""
    return job_function(job)(*args, runtime=runtime)


_current: Runtime | None = None
_current_lock = threading.Lock()


def install(runtime: Runtime) -> None:
    """Make ``runtime`` the one :func:`current` returns in this process."""
    global _current
    _current = runtime


def current() -> Runtime:
    """This process's runtime; an RQ worker builds it from the environment on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = build_runtime(Settings.from_env())
        return _current
