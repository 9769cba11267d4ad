"""Two bot processes (run_bot.py) in webhook mode behind one webhook URL, one emulator, one
PostgreSQL with pgvector (INDEX_BACKEND=pgvector): what replicas share, and what a database
outage does to them.

The emulator posts every update to the one WEBHOOK_URL, as Telegram does. There a small
router (the stand-in for a deployment's load balancer) forwards each update to the replica
the test names, so that "added through one, answered through the other" is exact.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import select

from bot import messages
from corpus.ingest import ingest_paths
from corpus.models import Article
from corpus.store import create_db_engine, init_db, make_session_factory
from tests.conftest import new_postgres_database, outage
from tests.e2e.harness import REPO_ROOT, BotMessage, BotProcess, Client, Emulator
from tests.e2e.test_bot_e2e import DEMO, DEMO_IDS, MIGRATION, SEED, SEED_TITLE, _free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.postgres]

TOKEN = "987654330:sanad-replicas-test-token"
ADMINS = (910_001, 910_002)
LIMIT = 3
WAIT = 30.0


class Router:
    """POSTs to /sanad-hook go to `target` (a replica's port), headers and body as they came."""

    def __init__(self) -> None:
        self.target: int | None = None
        router = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length")
                }
                response = httpx.post(
                    f"http://127.0.0.1:{router.target}{self.path}",
                    content=body,
                    headers=headers,
                    timeout=30,
                )
                self.send_response(response.status_code)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Router:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Deployment:
    router: Router
    replicas: dict[str, tuple[int, BotProcess]]
    postgres: object
    database_url: str
    client: Client

    def to(self, name: str) -> None:
        self.router.target = self.replicas[name][0]


@pytest.fixture(scope="module")
def deployment(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    import pgserver

    root = tmp_path_factory.mktemp("replicas")
    server = pgserver.get_server(root / "pgdata", cleanup_mode="delete")
    url = new_postgres_database(server, "replicas")
    engine = create_db_engine(url)
    init_db(engine)
    small = root / "demo-small.jsonl"
    with DEMO.open(encoding="utf-8") as lines:
        small.write_text(
            "".join(line for line in lines if json.loads(line)["id"] in DEMO_IDS), encoding="utf-8"
        )
    report = ingest_paths(make_session_factory(engine), [SEED, small])
    assert len(report.added) == len(DEMO_IDS) + 1
    engine.dispose()
    with Router() as router, emulator.client(TOKEN) as client:
        replicas: dict[str, tuple[int, BotProcess]] = {}
        hook = f"http://127.0.0.1:{router.port}/sanad-hook"
        try:
            for n, name in enumerate(("a", "b"), start=1):
                port = _free_port()
                process = BotProcess.python_script(
                    REPO_ROOT / "run_bot.py",
                    env={
                        **emulator.bot_env(TOKEN),
                        "ADMIN_IDS": ",".join(map(str, ADMINS)),
                        "DATABASE_URL": url,
                        "INDEX_BACKEND": "pgvector",
                        "INDEX_DIR": str(root / f"unused-{name}"),
                        "WEBHOOK_URL": hook,
                        "WEBHOOK_LISTEN": "127.0.0.1",
                        "WEBHOOK_PORT": str(port),
                        "RATE_LIMIT_PER_MINUTE": str(LIMIT),
                        "TOP_K": "3",
                        "ENV_FILE": str(root / "no.env"),
                        "LOG_LEVEL": "INFO",
                    },
                    log_path=root / f"bot-{name}.log",
                    ready=lambda n=n: client.calls().get("setWebhook", 0) >= n,
                    startup_timeout=300,
                )
                process.start()
                replicas[name] = (port, process)
            yield Deployment(router, replicas, server, url, client)
        finally:
            for _, process in replicas.values():
                process.stop()
    server.cleanup()
    for name, (_, process) in replicas.items():
        log = process.log()
        assert process.returncode == 0, (name, process.tail())
        assert "Traceback" not in log, (name, process.tail(80))
        assert TOKEN.split(":")[1] not in log


def say(d: Deployment, replica: str, text: str, user: int) -> BotMessage:
    """Send `text` through `replica`; the bot's next message in that chat."""
    d.to(replica)
    before = len(d.client.bot_messages(user))
    d.client.send_message(text, user_id=user)
    return d.client.wait_for_bot_messages(user, before + 1, timeout=WAIT)[before]


def test_both_replicas_answer_from_the_shared_index(deployment: Deployment) -> None:
    for replica, user in (("a", 920_001), ("b", 920_002)):
        reply = say(deployment, replica, MIGRATION, user)
        assert SEED_TITLE in (reply.text or ""), replica


def test_an_article_added_through_one_is_answered_through_the_other(
    deployment: Deployment,
) -> None:
    admin = ADMINS[0]
    body = (
        "افتتح أمير منطقة الجوف مهرجان الزيتون الدولي في دورته الخامسة عشرة بمشاركة 120 "
        "مزارعاً، ويستمر المهرجان عشرة أيام في مدينة سكاكا."
    )
    added = say(deployment, "a", f"/add مهرجان الزيتون الدولي في الجوف\n{body}", admin)
    assert "✅" in (added.text or ""), added.text
    started = time.monotonic()
    reply = say(deployment, "b", "كم مزارعاً شارك في مهرجان الزيتون في الجوف؟", 920_003)
    assert time.monotonic() - started < 5.0
    assert "مهرجان الزيتون الدولي" in (reply.text or "")


def test_two_simultaneous_reindexes_one_runs_the_other_is_told(deployment: Deployment) -> None:
    """Each replica's own guard cannot see the other's build: the advisory lock decides."""
    d = deployment
    seen = {admin: len(d.client.bot_messages(admin)) for admin in ADMINS}
    for replica, admin in zip(("a", "b"), ADMINS, strict=True):
        d.to(replica)
        d.client.send_message("/reindex full", user_id=admin)
        d.client.wait_for_bot_messages(admin, seen[admin] + 1, timeout=WAIT)

    def final(admin: int) -> str:
        """The /reindex status message once it is done or refused (it is edited in place)."""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status = d.client.bot_messages(admin)[seen[admin]].text or ""
            if status.startswith("✅ اكتملت") or status == messages.REINDEX_BUSY:
                return status
            time.sleep(0.2)
        raise AssertionError(f"no final /reindex status for {admin}: {status}")

    outcomes = [final(admin) for admin in ADMINS]
    assert sum(o.startswith("✅ اكتملت") for o in outcomes) == 1, outcomes
    assert messages.REINDEX_BUSY in outcomes


def test_a_user_over_the_limit_on_one_replica_is_over_it_on_the_other(
    deployment: Deployment,
) -> None:
    user = 920_010
    replies = [
        say(deployment, r, f"كم بلغ سعر برميل النفط؟ {n}", user)
        for n, r in enumerate(("a", "b", "a"))
    ]
    assert all("📰" in (r.text or "") for r in replies)
    refused = say(deployment, "b", "كم سيغيب سامي خضيرة عن الملاعب؟", user)
    assert (refused.text or "").startswith("أرسلت أسئلة كثيرة"), refused.text


def test_a_database_outage_gets_try_again_and_both_replicas_recover(
    deployment: Deployment,
) -> None:
    """Last in the module: PostgreSQL is stopped under both replicas, then started again."""
    d = deployment
    admin = ADMINS[1]
    with outage(d.postgres):
        refused = say(d, "a", MIGRATION, 920_020)
        assert refused.text == messages.STORE_UNAVAILABLE
        add = say(
            d, "b", "/add خبر أثناء الانقطاع\nنص خبر أضيف أثناء انقطاع قاعدة البيانات.", admin
        )
        assert add.text == messages.ADD_STORE_UNAVAILABLE
    for replica, user in (("a", 920_021), ("b", 920_022)):
        reply = say(d, replica, MIGRATION, user)
        assert SEED_TITLE in (reply.text or ""), (replica, reply.text)
    engine = create_db_engine(d.database_url)
    with make_session_factory(engine)() as session:  # nothing half-written
        titles = session.scalars(select(Article.title)).all()
    engine.dispose()
    assert "خبر أثناء الانقطاع" not in titles and len(titles) == len(DEMO_IDS) + 2
