"""``/ai/models``: the models a repository's linked configurations offer.

The lists are those the providers gave at each configuration's last successful validation
(:mod:`flashback_tui.server.store.models`). ``llmProvider`` is the provider type's name
(``OPENAI``, ``ANTHROPIC``, ...); ``llmType`` is the type the provider listing gave the model,
else the configuration's aiType (the value the usage time series records as ``llmType``).
"""

from __future__ import annotations

from fastapi import APIRouter

from flashback_tui.api.models import AiModel, AiModelsRequest, AiModelsResponse
from flashback_tui.server.deps import State, User, error_responses, require_row_access
from flashback_tui.server.store import models as model_store
from flashback_tui.server.store import repos as repo_store

router = APIRouter(prefix="/ai/models", tags=["AI models"],
                   responses=error_responses(400, 401, 404, 500))


@router.post("", response_model=AiModelsResponse, summary="Models a repository can use")
def list_models(body: AiModelsRequest, user: User, state: State) -> AiModelsResponse:
    """The models of the repository's configurations, narrowed by ``aiType``/``llmType``.

    A POST although it only reads (as the platform's client sends it); any member of the
    repository's workspace may ask; 404 for a repository the caller cannot see.
    """
    conn = state.db.conn()
    require_row_access(conn, user, repo_store.repo_row(conn, body.repo_id), write=False,
                       not_found=repo_store.REPO_NOT_FOUND)
    offered = model_store.models_for_repo(
        conn, body.repo_id, ai_type=body.ai_type.value if body.ai_type else None,
        llm_type=body.llm_type)
    return AiModelsResponse(success=True, models=[
        AiModel(id=m.model_id, name=m.name, created=m.created, ai_type=m.ai_type,
                llm_type=m.llm_type, llm_provider=m.ai_type)
        for m in offered])
