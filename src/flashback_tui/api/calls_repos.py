"""The repository calls of the client: repositories and their AI API keys.

One method per endpoint, named after the TypeScript client's method (``getStorageRepos`` ->
:meth:`RepoCalls.get_repos`, ``createRepoAiApiKey`` -> :meth:`RepoCalls.create_repo_ai_api_key`).
A create or update answered with ``success`` false raises RepoRefusedError with the
platform's ``error_message`` and ``error_code``, whatever the status.
"""

from __future__ import annotations

from flashback_tui.api.errors import NotFoundError, RepoRefusedError
from flashback_tui.api.models import (
    MessageResponse,
    Repo,
    RepoAiApiKeyCreate,
    RepoAiApiKeyCreated,
    RepoAiApiKeyListResponse,
    RepoAiApiKeyUpdate,
    RepoIdResponse,
    RepoListResponse,
    RepoWrite,
    SuccessResponse,
)
from flashback_tui.api.transport import ApiSession, path_id, query


class RepoCalls(ApiSession):
    """``/repo`` and ``/repo/{repoId}/ai/apikey``."""

    # -- repositories ---------------------------------------------------------------------

    async def create_repo(self, body: RepoWrite) -> RepoIdResponse:
        """``POST /repo`` (``createStorageRepo``): a new repository; answers its id."""
        answer = await self._call("POST", "/repo", RepoIdResponse, json=body.to_wire())
        return _accepted(answer, "POST /repo")

    async def get_repos(self, workspace_id: str | None = None, repo_id: str | None = None,
                        wallet_address: str | None = None) -> RepoListResponse:
        """``GET /repo`` (``getStorageRepos``): repositories, optionally narrowed."""
        params = query({"workspaceId": workspace_id, "repoId": repo_id,
                        "walletAddress": wallet_address})
        return await self._call("GET", "/repo", RepoListResponse, params=params)

    async def get_repo(self, repo_id: str) -> Repo:
        """One repository (``getStorageRepo``: ``GET /repo?repoId=``); NotFoundError if none."""
        answer = await self.get_repos(repo_id=repo_id)
        if not answer.success or not answer.repos:
            raise NotFoundError("repository not found", request="GET /repo")
        return answer.repos[0]

    async def update_repo(self, repo_id: str, body: RepoWrite) -> RepoIdResponse:
        """``PUT /repo/{repoId}`` (``updateStorageRepo``): the full document again."""
        label = "PUT /repo/{repoId}"
        answer = await self._call("PUT", self._repo(repo_id), RepoIdResponse,
                                  json=body.to_wire())
        return _accepted(answer, label)

    async def delete_repo(self, repo_id: str) -> SuccessResponse:
        """``DELETE /repo/{repoId}`` (``deleteStorageRepo``)."""
        return await self._call("DELETE", self._repo(repo_id), SuccessResponse)

    # -- repository AI API keys -----------------------------------------------------------

    async def create_repo_ai_api_key(self, repo_id: str,
                                     body: RepoAiApiKeyCreate) -> RepoAiApiKeyCreated:
        """``POST /repo/{repoId}/ai/apikey``: the only answer that carries the secret."""
        return await self._call("POST", self._keys(repo_id), RepoAiApiKeyCreated,
                                json=body.to_wire())

    async def get_repo_ai_api_keys(self, repo_id: str) -> RepoAiApiKeyListResponse:
        """``GET /repo/{repoId}/ai/apikey``: the repository's keys, revoked ones included."""
        return await self._call("GET", self._keys(repo_id), RepoAiApiKeyListResponse)

    async def update_repo_ai_api_key(self, repo_id: str, api_key_id: str,
                                     body: RepoAiApiKeyUpdate) -> MessageResponse:
        """``PUT /repo/{repoId}/ai/apikey/{apiKeyId}``: rename a key."""
        path = f"{self._keys(repo_id)}/{path_id(api_key_id)}"
        return await self._call("PUT", path, MessageResponse, json=body.to_wire())

    async def delete_repo_ai_api_key(self, repo_id: str, api_key_id: str) -> MessageResponse:
        """``DELETE /repo/{repoId}/ai/apikey/{apiKeyId}``: revoke a key."""
        path = f"{self._keys(repo_id)}/{path_id(api_key_id)}"
        return await self._call("DELETE", path, MessageResponse)

    @staticmethod
    def _repo(repo_id: str) -> str:
        return f"/repo/{path_id(repo_id)}"

    @classmethod
    def _keys(cls, repo_id: str) -> str:
        return f"{cls._repo(repo_id)}/ai/apikey"


def _accepted(answer: RepoIdResponse, label: str) -> RepoIdResponse:
    """The answer when the platform took the change; RepoRefusedError when it said no."""
    code = answer.error_code
    if answer.success and code in (None, "SUCCESS"):
        return answer
    message = answer.error_message or code or "the repository change was refused"
    if code == "NOT_FOUND":
        raise NotFoundError(message, status=200, request=label, error_code=code)
    raise RepoRefusedError(message, status=200, request=label, error_code=code)
