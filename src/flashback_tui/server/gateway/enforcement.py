"""Policy enforcement at the gateway: check a prompt, count it, record violations and alerts.

Every policy that applies to the request is checked: the org's, the key's repository's
workspace's and that repository's. Each match is one violation; action 1 (alert) and 2
(block) also raise an alert, and 2 refuses the request with a 403 before it is forwarded.
Violation rows are queued in memory (:class:`ViolationLog`) and written to SQLite off the
event loop, in batches, like usage; reads of the violation and alert lists write the queue
first, so they see every finished call.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence

from starlette.responses import JSONResponse

from flashback_tui.server.accounting import CallUsage, conversation_uuid, flush_periodically
from flashback_tui.server.gateway.errors import openai_error
from flashback_tui.server.gateway.routing import Upstream
from flashback_tui.server.policies import CompiledPolicy, Verdict, evaluate
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store.violations import ViolationRecord, write_violations

logger = logging.getLogger("flashback_tui.server.gateway")

#: Seconds between background writes of pending violations.
FLUSH_INTERVAL = 1.0


def count_verdict(verdict: Verdict, usage: CallUsage) -> None:
    """Put the verdict's counts on the call's usage (violations, alerts, blocks, severity)."""
    usage.policy_violations = verdict.violations
    usage.num_alerts = verdict.alerts
    usage.num_blocks = 1 if verdict.blocked else 0
    usage.severities = {risk: verdict.severity(risk) for risk in ("LOW", "MEDIUM", "HIGH")}


def violation_records(verdict: Verdict, upstream: Upstream, usage: CallUsage
                      ) -> list[ViolationRecord]:
    """One record per match, naming the policy, repository, key, model and host."""
    ctx = upstream.context
    if ctx is None:
        return []
    route = upstream.route
    at_ms = store_base.now_ms()
    conversation = conversation_uuid(usage.conversation) or None
    return [ViolationRecord(
        id=store_base.new_id(), org_id=ctx.org_id, at_ms=at_ms, policy_id=m.policy.id,
        policy_name=m.policy.name, workspace_id=route.workspace_id, repo_id=route.repo_id,
        repo_name=ctx.repo_name, user_id=ctx.user_id, user_name=ctx.user_name,
        repo_ai_api_key_id=route.key_id, repo_ai_api_key_name=ctx.key_name,
        ai_llm_id=route.llm_id or "", llm_type=route.ai_type.value,
        llm_model=usage.llm_model or "", host=upstream.host, severity=m.policy.risk_type,
        block=m.blocks, explanation=m.explanation, conversation_id=conversation,
        alert=m.alerts) for m in verdict.matches]


def check_prompt(policies: Sequence[CompiledPolicy], text: str, upstream: Upstream,
                 usage: CallUsage) -> tuple[list[ViolationRecord], JSONResponse | None]:
    """The violations a prompt raises and, when a policy blocks, the 403 to answer with."""
    route = upstream.route
    applicable = [p for p in policies if p.applies_to(route.workspace_id, route.repo_id)]
    if not applicable:
        return [], None
    verdict = evaluate(applicable, text)
    if not verdict.matches:
        return [], None
    count_verdict(verdict, usage)
    records = violation_records(verdict, upstream, usage)
    blocking = verdict.blocking_policy
    if blocking is None:
        return records, None
    return records, openai_error(403, f"The request was blocked by the policy {blocking.name!r}.",
                                 "policy_violation", "policy_blocked")


class ViolationLog:
    """Violations waiting to be written; ``flush`` writes them all in one transaction.

    ``add`` is cheap and thread-safe; ``flush`` is serialized, so when it returns every
    record added before the call is in the database. A failed write keeps the batch.
    """

    def __init__(self, writer: Callable[[list[ViolationRecord]], None]) -> None:
        self._writer = writer
        self._pending: list[ViolationRecord] = []
        self._lock = threading.Lock()
        self._flush_lock: asyncio.Lock | None = None

    @classmethod
    def for_database(cls, conn_of_thread: Callable[[], object]) -> ViolationLog:
        """A log that writes through ``conn_of_thread()`` (a per-thread connection)."""
        return cls(lambda batch: write_violations(conn_of_thread(), batch))  # type: ignore[arg-type]

    def add(self, records: Sequence[ViolationRecord]) -> None:
        """Queue records for the next write."""
        if records:
            with self._lock:
                self._pending.extend(records)

    def _take(self) -> list[ViolationRecord]:
        with self._lock:
            batch, self._pending = self._pending, []
        return batch

    def _put_back(self, batch: list[ViolationRecord]) -> None:
        with self._lock:
            self._pending[:0] = batch

    async def flush(self) -> None:
        """Write everything pending (in a thread); on failure keep it pending and re-raise."""
        if self._flush_lock is None:
            self._flush_lock = asyncio.Lock()
        async with self._flush_lock:
            batch = self._take()
            if not batch:
                return
            write = asyncio.ensure_future(asyncio.to_thread(self._writer, batch))
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                try:  # learn whether the thread's write committed (never write it twice)
                    await write
                except Exception:
                    self._put_back(batch)
                raise
            except Exception:
                self._put_back(batch)
                raise

    async def run_periodic(self, interval: float = FLUSH_INTERVAL) -> None:
        """Flush every ``interval`` seconds until cancelled (failures are logged, retried)."""
        await flush_periodically(self.flush, interval, "policy violations")
