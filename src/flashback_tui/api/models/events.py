"""Wire models of system events, the audit trail (``/systemevent``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from flashback_tui.api.models.common import RequestModel, Rows, WireModel, whole_number

#: ``context`` values, by the index a query names them with.
EVENT_CONTEXTS = (
    "workspace", "bucket", "repo", "user", "org", "workspaceuser", "apikey", "usersettings",
    "orgsettings", "flashbacknode", "orgkey", "aillm", "aillmapikey", "conversation",
)
#: ``event`` values, by index.
EVENT_KINDS = ("created", "updated", "deleted")
EVENTS_PAGE_MAX = 100

Id64 = Annotated[str, StringConstraints(max_length=64)]
#: What the time filters take (ISO 8601, as :func:`datetime.fromisoformat` reads it).
TIMESTAMP_SCHEMA = {"pattern": "^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
                    "(?:[T ](?:[01][0-9]|2[0-3])(?::[0-5][0-9](?::[0-5][0-9](?:[.][0-9]+)?)?)?"
                    "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?$"}
#: The largest id or offset taken: SQLite holds 64-bit integers, and JSON numbers up to 2**53
#: exactly (so the schema's bound is the server's).
ROW_ID_MAX = 2**53
EventId = whole_number(ge=-ROW_ID_MAX, le=ROW_ID_MAX)


class SystemEventQuery(RequestModel):
    """Body of ``POST /systemevent``: paging (required) and filters."""

    skip: whole_number(ge=0, le=ROW_ID_MAX)  # type: ignore[valid-type]
    take: whole_number(ge=0, le=ROW_ID_MAX)  # type: ignore[valid-type]
    from_timestamp: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        default=None, alias="from_timestamp", json_schema_extra=TIMESTAMP_SCHEMA)
    to_timestamp: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        default=None, alias="to_timestamp", json_schema_extra=TIMESTAMP_SCHEMA)
    context_id: Id64 | None = None
    context: whole_number(ge=0, lt=len(EVENT_CONTEXTS)) | None = None
    event: whole_number(ge=0, lt=len(EVENT_KINDS)) | None = None
    user_id: Id64 | None = None
    workspace_id: Id64 | None = None
    show_unread: bool | None = None


class SystemEvent(WireModel):
    """One change: who did what to which thing, and which fields changed (``jsonData``)."""

    keep_null = frozenset({'workspace_id', 'json_data'})

    id: int
    timestamp: str
    context_id: str
    context: str
    event: str
    org_id: str
    user_id: str
    user_name: str = ""
    user_email: str = ""
    workspace_id: str | None = None
    json_data: str | None = None
    show_unread: bool = False


class SystemEventPage(WireModel):
    """Answer of ``POST /systemevent`` (no ``success``)."""

    events: Rows[SystemEvent]
    total: int
    skip: int
    take: int


class SystemEventReadIds(RequestModel):
    """Body of ``POST``/``DELETE /systemevent/read``: one id or several."""

    schema_extra = {"anyOf": [
        {"required": ["id"], "properties": {"id": {"type": "integer"}}},
        {"required": ["ids"], "properties": {"ids": {"type": "array", "minItems": 1}}},
    ]}

    id: EventId | None = None
    ids: list[EventId] | None = Field(default=None, max_length=1000)

    def all_ids(self) -> list[int]:
        """Every id the body names."""
        return ([self.id] if self.id is not None else []) + list(self.ids or [])
