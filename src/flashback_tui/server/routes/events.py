"""``/systemevent``: the audit trail of changes, and marking events read or unread.

Org OWNER and ADMINISTRATORS see every event of the org; other users see the events of the
workspaces they belong to, and their own events outside any workspace.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException

from flashback_tui.api.models import (
    EVENT_CONTEXTS,
    EVENT_KINDS,
    EVENTS_PAGE_MAX,
    OrgRole,
    SuccessOnly,
    SystemEvent,
    SystemEventPage,
    SystemEventQuery,
    SystemEventReadIds,
    format_timestamp,
)
from flashback_tui.server.deps import CurrentUser, State, User, error_responses
from flashback_tui.server.store import events as event_store

router = APIRouter(prefix="/systemevent", tags=["System events"],
                   responses=error_responses(400, 401, 500))


def _sees_all(user: CurrentUser) -> bool:
    return user.org_role in (OrgRole.OWNER, OrgRole.ADMINISTRATORS)


def _instant(value: str | None, field: str) -> str | None:
    """An ISO 8601 time as the store writes times (UTC, milliseconds, ``Z``)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(400, f"{field}: must be an ISO 8601 time, e.g. "
                                 "2024-01-15T10:30:00.000Z") from None
    return format_timestamp(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def _wire(record: event_store.EventRecord) -> SystemEvent:
    return SystemEvent(
        id=record.id, timestamp=record.at, context_id=record.context_id,
        context=EVENT_CONTEXTS[record.context] if record.context < len(EVENT_CONTEXTS)
        else str(record.context),
        event=EVENT_KINDS[record.event] if record.event < len(EVENT_KINDS)
        else str(record.event),
        org_id=record.org_id, user_id=record.user_id, user_name=record.user_name,
        user_email=record.user_email, workspace_id=record.workspace_id,
        json_data=record.json_data, show_unread=record.unread)


@router.post("", response_model=SystemEventPage, summary="List system events (newest first)")
def list_events(body: SystemEventQuery, user: User, state: State) -> SystemEventPage:
    """A page of the changes the caller may see, with filters; ``take`` is at most 100."""
    take = min(body.take, EVENTS_PAGE_MAX)
    filters = event_store.EventFilter(
        since=_instant(body.from_timestamp, "from_timestamp"),
        until=_instant(body.to_timestamp, "to_timestamp"),
        context_id=body.context_id, context=body.context, event=body.event,
        user_id=body.user_id, workspace_id=body.workspace_id,
        unread_only=bool(body.show_unread))
    records, total = event_store.query(state.db.conn(), user.id, user.org_id,
                                       sees_all=_sees_all(user), filters=filters,
                                       skip=body.skip, take=take)
    return SystemEventPage(events=[_wire(r) for r in records], total=total, skip=body.skip,
                           take=take)


def _mark(body: SystemEventReadIds, user: CurrentUser, state: State, *, read: bool
          ) -> SuccessOnly:
    ids = body.all_ids()
    if not ids:
        raise HTTPException(400, "id: give an event id (id) or several (ids)")
    event_store.mark_read(state.db.conn(), user.id, user.org_id, sees_all=_sees_all(user),
                          ids=ids, read=read)
    return SuccessOnly(success=True)


@router.post("/read", response_model=SuccessOnly, summary="Mark events read")
def mark_read(body: SystemEventReadIds, user: User, state: State) -> SuccessOnly:
    """Mark events read for the caller (ids the caller cannot see are skipped)."""
    return _mark(body, user, state, read=True)


@router.delete("/read", response_model=SuccessOnly, summary="Mark events unread")
def mark_unread(body: SystemEventReadIds, user: User, state: State) -> SuccessOnly:
    """Mark events unread for the caller."""
    return _mark(body, user, state, read=False)
