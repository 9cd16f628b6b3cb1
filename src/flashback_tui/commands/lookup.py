"""Finding what a command names: workspaces, configurations, repositories and policies.

Every reference is an id or a name. An id wins; then an exact name; then a name compared
without case. A name shared by several items is a usage error (exit 2) that lists each with
its id, so the next attempt can use one; an unknown reference exits 4 (not found).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from flashback_tui.commands.common import CliError, ExitCode

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import AiLlm, Policy, Repo, Workspace

T = TypeVar("T")

#: What each kind of item is called in messages, and the command that lists them.
LISTING = {
    "workspace": "flashback-tui workspaces",
    "configuration": "flashback-tui llm list",
    "repository": "flashback-tui repo list",
    "policy": "flashback-tui policy list",
}


def matches(items: Sequence[T], wanted: str, *, id_of: Callable[[T], str],
            name_of: Callable[[T], str]) -> list[T]:
    """The items ``wanted`` names: by id, else exact name, else name without case."""
    wanted = wanted.strip()
    by_id = [item for item in items if id_of(item) == wanted]
    if by_id:
        return by_id[:1]
    exact = [item for item in items if name_of(item) == wanted]
    return exact or [item for item in items if name_of(item).casefold() == wanted.casefold()]


def pick(kind: str, items: Sequence[T], wanted: str, *, id_of: Callable[[T], str],
         name_of: Callable[[T], str], where_of: Callable[[T], str] | None = None,
         scope: str = "") -> T:
    """The one item ``wanted`` names, or the usage (several) or not-found (none) error."""
    found = matches(items, wanted, id_of=id_of, name_of=name_of)
    if len(found) == 1:
        return found[0]
    if found:
        lines = [f"  {id_of(item)}  {name_of(item)}"
                 + (f"  (in {where_of(item)})" if where_of else "") for item in found]
        raise CliError(f"{wanted!r} names {len(found)} {kind_plural(kind)}; give one of "
                       "their ids:\n" + "\n".join(lines), exit_code=ExitCode.USAGE)
    where = f" in {scope}" if scope else ""
    raise CliError(f"no {kind} named or with id {wanted!r}{where}",
                   exit_code=ExitCode.NOT_FOUND,
                   hint=f"List them with `{LISTING.get(kind, 'flashback-tui --help')}`.")


def kind_plural(kind: str) -> str:
    """``policies`` for ``policy``, ``repositories`` for ``repository``."""
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "s"


# ---------------------------------------------------------------------------------------------
# Workspaces
# ---------------------------------------------------------------------------------------------


def pick_workspace(workspaces: Sequence[Workspace], wanted: str) -> Workspace:
    """The workspace whose id, or else name (exact, then case-insensitive), is ``wanted``."""
    return pick("workspace", workspaces, wanted, id_of=lambda w: w.id, name_of=lambda w: w.name,
                scope="your workspaces")


async def resolve_workspace(client: FlashbackClient, wanted: str) -> Workspace:
    """Resolve a workspace NAME_OR_ID through ``GET /workspace``."""
    return pick_workspace((await client.get_workspaces()).workspaces, wanted)


async def workspace_names(client: FlashbackClient) -> dict[str, str]:
    """Workspace id -> name, for the workspaces the caller belongs to."""
    return {w.id: w.name for w in (await client.get_workspaces()).workspaces}


async def optional_workspace_id(client: FlashbackClient, wanted: str | None) -> str | None:
    """The id of ``--workspace`` when given, else None."""
    return (await resolve_workspace(client, wanted)).id if wanted else None


# ---------------------------------------------------------------------------------------------
# Configurations, repositories, policies
# ---------------------------------------------------------------------------------------------


def pick_llms(llms: Sequence[AiLlm], wanted: Sequence[str],
              names: dict[str, str] | None = None) -> list[AiLlm]:
    """The configurations ``wanted`` names, in that order, without repeats."""
    chosen = [pick("configuration", llms, ref, id_of=lambda c: c.id, name_of=lambda c: c.name,
                   where_of=lambda c: (names or {}).get(c.workspace_id, c.workspace_id),
                   scope="your workspaces") for ref in wanted]
    return list({llm.id: llm for llm in chosen}.values())


async def resolve_llms(client: FlashbackClient, wanted: Sequence[str],
                       workspace: str | None = None) -> list[AiLlm]:
    """Configurations by id or name, looked up in ``workspace`` or every visible one."""
    workspaces = (await client.get_workspaces()).workspaces
    workspace_id = pick_workspace(workspaces, workspace).id if workspace else None
    llms = (await client.get_ai_llms(workspace_id)).ai_llms
    return pick_llms(llms, wanted, {w.id: w.name for w in workspaces})


async def resolve_llm(client: FlashbackClient, wanted: str,
                      workspace: str | None = None) -> AiLlm:
    """One configuration by id or name (see :func:`resolve_llms`)."""
    return (await resolve_llms(client, [wanted], workspace))[0]


async def resolve_repo(client: FlashbackClient, wanted: str,
                       workspace: str | None = None) -> Repo:
    """A repository by id or name, in ``workspace`` or every visible one."""
    workspaces = (await client.get_workspaces()).workspaces
    workspace_id = pick_workspace(workspaces, workspace).id if workspace else None
    repos = (await client.get_repos(workspace_id)).repos
    names = {w.id: w.name for w in workspaces}
    return pick("repository", repos, wanted, id_of=lambda r: r.id, name_of=lambda r: r.name,
                where_of=lambda r: names.get(r.workspace_id, r.workspace_id),
                scope=f"workspace {workspace}" if workspace else "your workspaces")


async def org_id_of(client: FlashbackClient) -> str:
    """The caller's organisation (``GET /user/profile`` ``data.orgId``)."""
    answer = await client.get_user_profile()
    if answer.data is None or not answer.data.org_id:
        raise CliError("the platform did not say which organisation you belong to "
                       "(GET /user/profile has no orgId)", exit_code=ExitCode.FAILURE)
    return answer.data.org_id


async def resolve_policy(client: FlashbackClient, wanted: str) -> Policy:
    """A policy by id or name among those the caller can see in the organisation."""
    policies = (await client.get_policies(await org_id_of(client))).policies
    return pick("policy", policies, wanted, id_of=lambda p: p.id, name_of=lambda p: p.name,
                where_of=lambda p: _policy_scope(p), scope="your organisation")


async def scope_ids(client: FlashbackClient, workspace: str | None, repo_ref: str | None
                    ) -> tuple[str | None, str | None]:
    """``(workspaceId, repoId)`` of ``--workspace`` / ``--repo`` (both None: the org)."""
    if workspace and repo_ref:
        raise CliError("use either --workspace or --repo, not both", exit_code=ExitCode.USAGE)
    if repo_ref:
        chosen = await resolve_repo(client, repo_ref)
        return chosen.workspace_id, chosen.id
    return ((await resolve_workspace(client, workspace)).id if workspace else None), None


def _policy_scope(policy: Policy) -> str:
    if policy.repo is not None or policy.repo_id:
        return f"repository {policy.repo.name if policy.repo else policy.repo_id}"
    if policy.workspace is not None or policy.workspace_id:
        name = policy.workspace.name if policy.workspace else policy.workspace_id
        return f"workspace {name}"
    return "the whole organisation"
