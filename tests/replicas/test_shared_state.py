"""Three replicas on one PostgreSQL database share everything that must be shared.

The replicas are started together on a fresh database (they race for its migration), and
the tests of this module share them: what one replica is told, the others know at once
(listings), within a second (the gateway's caches), or exactly (usage counts, lockouts).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flashback_tui.server.accounting import count_tokens, message_texts
from flashback_tui.server.gateway.version import MAX_STALENESS
from flashback_tui.server.migrations import HEAD
from flashback_tui.server.security import hash_password
from flashback_tui.server.store import users as user_store
from tests.gateway.helpers import Linked, stats_of
from tests.replicas.helpers import MAX_FAILURES, Answer, Replicas, chat, link_key, running, turn
from tests.support.fake_provider import FakeProvider

COUNT = 3


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """Three replicas started at once on one fresh database."""
    yield from running(tmp_path_factory.mktemp("replicas"), COUNT)


def test_replicas_started_together_on_a_fresh_database_migrate_it_once(
        replicas: Replicas) -> None:
    assert all(server.running for server in replicas.servers)
    with replicas.database() as state:
        conn = state.db.conn()
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        counts = conn.execute(
            "SELECT (SELECT COUNT(*) FROM orgs),"
            " (SELECT COUNT(*) FROM workspaces WHERE name = 'Default'),"
            " (SELECT COUNT(*) FROM users WHERE email = 'admin@localhost')").fetchone()
        assert tuple(counts) == (1, 1, 1)  # bootstrapped once: one org, Default, the admin
    for n in range(COUNT):
        assert replicas.api(n).call("GET", "/user/profile")["data"]["email"] == "admin@localhost"


def test_a_configuration_created_through_one_replica_is_listed_by_the_others_at_once(
        replicas: Replicas) -> None:
    apis = [replicas.api(n) for n in range(COUNT)]
    for api in apis:  # every replica has the list cached
        api.call("GET", "/ai/llm")
    for n, api in enumerate(apis):
        name = f"made-through-{n}-{uuid.uuid4().hex[:6]}"
        workspace_id = api.call("GET", "/workspace")["workspaces"][0]["id"]
        created = api.call("POST", "/ai/llm", json={
            "name": name, "aiType": "OPENAI", "secret": "sk-replicated",
            "workspaceId": workspace_id})["aiLlmId"]
        for other in apis:
            listed = {c["id"] for c in other.call("GET", "/ai/llm")["aiLlms"]}
            assert created in listed


def gateway_ok(http: httpx.Client, url: str, linked: Linked) -> int:
    return chat(http, url, linked.secret, "are you there").status


def test_a_key_revoked_through_one_replica_is_refused_by_every_replica_within_a_second(
        replicas: Replicas, provider: FakeProvider) -> None:
    linked = link_key(replicas, 0, provider.endpoint("ok"), "revoked-one")
    urls = [server.url for server in replicas.servers]
    with httpx.Client(timeout=30) as http:
        assert [gateway_ok(http, url, linked) for url in urls] == [200] * COUNT  # cached
        replicas.api(1).call("DELETE", f"/repo/{linked.repo_id}/ai/apikey/{linked.key_id}")
        revoked_at = time.monotonic()
        assert gateway_ok(http, urls[1], linked) == 401  # where it was revoked: at once
        # Everywhere else: a call that starts later than MAX_STALENESS after the revocation
        # must be refused (the calls before may still pass).
        deadline = revoked_at + MAX_STALENESS
        for url in urls:
            while True:
                started = time.monotonic()
                status = gateway_ok(http, url, linked)
                if status == 401:
                    break
                assert status == 200 and started <= deadline, (url, status,
                                                               started - revoked_at)


def concurrent_calls(replicas: Replicas, linked: Linked, clients: int, calls: int
                     ) -> list[tuple[list[dict[str, str]], Answer]]:
    """``clients`` threads, each one chat of its own making ``calls`` calls spread over the
    replicas (every chat reaches every replica), plain and streamed in turn; each call's
    messages and answer."""
    urls = [server.url for server in replicas.servers]
    results: list[tuple[list[dict[str, str]], Answer]] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(c: int) -> None:
        with httpx.Client(timeout=60) as http:
            start.wait(30)
            for k in range(calls):
                messages = turn(f"client {c} opens", None if k == 0 else
                                f"question {k}" + " again" * (k % 3), system=f"Client {c}.")
                answer = chat(http, urls[(c + k) % len(urls)], linked.secret, messages,
                              stream=k % 2 == 1)
                with lock:
                    results.append((messages, answer))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_concurrent_gateway_calls_over_the_replicas_are_counted_exactly(
        replicas: Replicas, provider: FakeProvider) -> None:
    linked = link_key(replicas, 2, provider.endpoint("ok"), "busy")
    results = concurrent_calls(replicas, linked, clients=COUNT * 8, calls=6)
    assert len(results) == COUNT * 8 * 6
    assert all(answer.status == 200 for _, answer in results)
    expected = {
        "totalApiCalls": len(results),
        "totalLlmTokensIn": sum(answer.prompt_tokens for _, answer in results),
        "totalLlmTokensOut": sum(answer.completion_tokens for _, answer in results),
        "totalTokensIn": sum(count_tokens("\n".join(message_texts(messages)))
                             for messages, _ in results),
    }
    for n in range(COUNT):  # every replica reads the same, exact, totals
        stats = stats_of(replicas.api(n), linked.llm_id)
        assert {name: stats[name] for name in expected} == expected, n
    # Every chat reached every replica: it still counts once in each minute (and day).
    api = replicas.api(0)
    rows = api.call("GET", "/aistats/minute", params={"aiLlmId": linked.llm_id})["data"]
    assert sum(row["apiCalls"] for row in rows) == len(results)
    minutes = {(row["conversationUuid"], row["timestamp"]) for row in rows}
    assert len({conversation for conversation, _ in minutes}) == COUNT * 8
    assert sum(row["activeConversations"] for row in rows) == len(minutes)
    daily = api.call("GET", "/aistats/daily", params={"aiLlmId": linked.llm_id})["data"]
    days = {(row["conversationUuid"], row["timestamp"]) for row in daily}
    assert sum(row["activeConversations"] for row in daily) == len(days)


EMAIL = "lockout@example.test"
PASSWORD = "correct horse battery staple"


def test_a_sign_in_lockout_earned_over_the_replicas_holds_on_every_one(
        replicas: Replicas) -> None:
    with replicas.database() as state:
        user_store.create_user(state.db.conn(), EMAIL, password_hash=hash_password(PASSWORD))
    urls = [server.url for server in replicas.servers]

    def login(url: str, password: str, email: str = EMAIL) -> httpx.Response:
        return httpx.post(f"{url}/user/login", json={"email": email, "password": password},
                          timeout=30)

    for n in range(MAX_FAILURES):  # one failure on each replica in turn
        failed = login(urls[n % COUNT], f"wrong {n}")
        assert failed.json()["error_code"] == "INVALID_CREDENTIALS"
    for url in urls:
        locked = login(url, PASSWORD)
        assert locked.status_code == 401
        assert locked.json()["error_code"] == "TOO_MANY_ATTEMPTS"
        assert 0 < int(locked.headers["retry-after"]) <= 600
    with replicas.database() as state:  # another user is not locked out
        user_store.create_user(state.db.conn(), "other@example.test",
                               password_hash=hash_password(PASSWORD))
    assert login(urls[0], PASSWORD, "other@example.test").status_code == 200


def test_the_platform_runs_on_its_own_data_dir_per_replica(replicas: Replicas) -> None:
    """Each replica has a data dir of its own, and no key file in it: the key is the
    environment's, the same for all."""
    dirs = {Path(server.data_dir) for server in replicas.servers}
    assert len(dirs) == COUNT
    assert not any((d / "master.key").exists() for d in dirs)
