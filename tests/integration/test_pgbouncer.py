"""The line behind PgBouncer in transaction mode, the pooler a deployment adds once it runs
more than a few dozen processes (docs/scale.md): every transaction may land on another
server connection, so the app must keep no state on one."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from grievance.app import create_app
from grievance.config import Settings
from grievance.models import Case
from grievance.runtime import build_runtime
from grievance.services import cases
from tests.conftest import Phone, _truncate_postgres, environment, unavailable
from tests.faults.conftest import free_port, wait_until
from tests.support.fake_twilio import FakeTwilio
from tests.support.intake import report

pytestmark = pytest.mark.postgres


@pytest.fixture
def pgbouncer_url(postgres_url: str) -> Iterator[str]:
    """PgBouncer in transaction mode with two server connections, in front of the test
    database; its DATABASE_URL says ``pooler=transaction``."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        unavailable("PgBouncer", "apt-get install pgbouncer")
    _truncate_postgres(postgres_url)
    port = free_port()
    # Not under tmp_path: PgBouncer runs as postgres, who cannot enter pytest's directories.
    home = Path(tempfile.mkdtemp(prefix="grievance-pgbouncer-"))
    (home / "users.txt").write_text('"postgres" ""\n')
    (home / "pgbouncer.ini").write_text(
        "[databases]\n* = host=127.0.0.1 port=5432\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"auth_type = trust\nauth_file = {home}/users.txt\n"
        "pool_mode = transaction\ndefault_pool_size = 1\nmax_client_conn = 50\n"
        f"unix_socket_dir =\nlogfile = {home}/pgbouncer.log\n"
    )
    command = [binary, str(home / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer will not run as root
        shutil.chown(home, "postgres")
        for item in home.iterdir():
            shutil.chown(item, "postgres")
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = make_url(postgres_url).set(port=port).update_query_dict({"pooler": "transaction"})
    try:
        wait_until("PgBouncer listening", lambda: _listening(port), timeout=20)
        yield url.render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(home, ignore_errors=True)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_the_line_works_behind_pgbouncer_in_transaction_mode(
    pgbouncer_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    """Two workers report at the same moment, three times each, and ask for their status;
    a handler then moves a case. PgBouncer runs every client on its one server connection,
    so any state the app left on a connection (psycopg prepares a statement it has run 5
    times) would meet the other client's."""
    runtime = build_runtime(
        Settings.from_env(environment(pgbouncer_url, tmp_path / "i", fake_twilio))
    )
    app = create_app(runtime=runtime)
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            client = app.test_client()
            for round_ in range(3):
                phone = Phone(client, fake_twilio, f"+9779800{n}{round_}0000")
                code = report(phone)
                assert "received" in phone.send(f"STATUS {code}")[0]
        except BaseException as exc:  # reported below, with the other thread's
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not failures, failures
        with runtime.sessions() as session:
            case_ids = session.scalars(select(Case.id).order_by(Case.id)).all()
        assert len(case_ids) == 6
        cases.update_status(runtime, case_ids[0], "acknowledged", "handler:1")
        with runtime.sessions() as session:
            acknowledged = session.scalar(
                select(func.count(Case.id)).where(Case.status == "acknowledged")
            )
        assert acknowledged == 1
    finally:
        runtime.close()


def test_a_pooler_name_the_app_does_not_know_is_refused_in_words() -> None:
    from grievance.db import make_engine

    with pytest.raises(ValueError, match="pooler=transaction"):
        make_engine("postgresql+psycopg://postgres@127.0.0.1:6432/grievance?pooler=session")
