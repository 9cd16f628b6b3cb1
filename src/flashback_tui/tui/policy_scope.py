"""The repositories and policies of a workspace (or of every workspace), and their pick lists.

:func:`load_scope` fetches what the policy list and the violation filters both need: the
caller's org, the repositories, and the policies that apply there (the org's, the
workspace's, its repositories'). :func:`filter_choices` turns them into ``(label, id)``
choices by name; a name that repeats says where it lives: ``no secrets (Production)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import Policy, Repo

#: A pick list: (label, id) pairs, in the order shown.
Choices = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Scope:
    """What one workspace (None: every workspace of the caller) holds."""

    org_id: str
    repos: list[Repo]
    policies: list[Policy]


async def load_scope(client: FlashbackClient, workspace_id: str | None) -> Scope:
    """The org, the repositories and the policies that apply in ``workspace_id``."""
    profile = await client.get_user_profile()
    org_id = (profile.data.org_id if profile.data is not None else "") or ""
    repos = list((await client.get_repos(workspace_id)).repos)
    policies = list((await client.get_policies(org_id)).policies)
    if workspace_id is not None:
        repo_ids = {repo.id for repo in repos}
        policies = [p for p in policies if applies_in(p, workspace_id, repo_ids)]
    return Scope(org_id, repos, policies)


def applies_in(policy: Policy, workspace_id: str, repo_ids: set[str]) -> bool:
    """Whether ``policy`` applies in the workspace: the org's, its own, or its repositories'."""
    return (policy.scope == "org" or policy.workspace_id == workspace_id
            or policy.repo_id in repo_ids)


@dataclass(frozen=True)
class FilterChoices:
    """The repositories and policies a violation list can be narrowed to, by name."""

    repos: Choices = ()
    policies: Choices = ()
    names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Label by id, per filter field (``repo_id``, ``policy_id``)."""

    @classmethod
    def of(cls, repos: Choices, policies: Choices) -> FilterChoices:
        """Choices with their name lookup."""
        return cls(repos, policies, {"repo_id": dict((i, n) for n, i in repos),
                                     "policy_id": dict((i, n) for n, i in policies)})


def filter_choices(scope: Scope, workspace_name: Callable[[str | None], str]) -> FilterChoices:
    """The pick lists of ``scope``; ``workspace_name`` names a workspace by its id."""
    repo_names = {repo.id: repo.name for repo in scope.repos}
    repo_workspace = {repo.id: repo.workspace_id for repo in scope.repos}
    repos = labelled((r.name, workspace_name(r.workspace_id), r.id) for r in scope.repos)

    def where(policy: Policy) -> str:
        if policy.repo_id:
            workspace = workspace_name(repo_workspace.get(policy.repo_id))
            repo = policy.repo.name if policy.repo else repo_names.get(policy.repo_id, "")
            return ", ".join(part for part in (workspace, f"repo {repo}" if repo else "") if part)
        if policy.workspace_id:
            return policy.workspace.name if policy.workspace else workspace_name(
                policy.workspace_id)
        return "org"

    policies = labelled((p.name, where(p), p.id) for p in scope.policies)
    return FilterChoices.of(repos, policies)


def labelled(items: Iterable[tuple[str, str, str]]) -> Choices:
    """``(name, where, id)`` as ``(label, id)`` sorted by label; repeated names say where."""
    items = list(items)
    counts = Counter(name.casefold() for name, _, _ in items)
    choices = [(f"{name} ({where})" if counts[name.casefold()] > 1 and where else name, id_)
               for name, where, id_ in items]
    return tuple(sorted(choices, key=lambda choice: (choice[0].casefold(), choice[1])))
