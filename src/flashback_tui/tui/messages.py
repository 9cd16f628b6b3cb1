"""Messages that cross screens (posted up to the App, or broadcast by it)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class WorkspaceChosen(Message):
    """The user opened a workspace (``workspace_id`` None means all workspaces)."""

    workspace_id: str | None
    workspace_name: str


@dataclass
class SessionReady(Message):
    """The App has a signed-in client and the list of workspaces; screens may load data."""


@dataclass
class ConfigSaved(Message):
    """A configuration was created or changed; it should be validated in the background."""

    ai_llm_id: str
    created: bool
