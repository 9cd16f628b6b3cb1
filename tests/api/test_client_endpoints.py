"""Every endpoint through FlashbackClient against the real local server: success and errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.errors import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
)
from flashback_tui.api.models import (
    AiLlm,
    AiLlmCreate,
    AiLlmUpdate,
    AiType,
    Role,
)
from flashback_tui.server import admin
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import usage as usage_store

UNKNOWN_ID = str(uuid.uuid4())


def find(configs: list[AiLlm], config_id: str) -> AiLlm | None:
    return next((c for c in configs if c.id == config_id), None)


# -- create and list ----------------------------------------------------------------------


async def test_create_then_list_in_workspace_and_everywhere(clients, new_config, world) -> None:
    writer = clients("WRITE")
    config_id = await new_config(writer, name="Production OpenAI", key="org-key-1234567890")

    in_workspace = (await writer.get_ai_llms(world.workspace_id)).ai_llms
    everywhere = (await writer.get_ai_llms()).ai_llms
    config = find(in_workspace, config_id)
    assert config is not None and find(everywhere, config_id) is not None
    assert config.name == "Production OpenAI"
    assert config.ai_type is AiType.OPENAI
    assert config.workspace_id == world.workspace_id
    assert config.key == "****7890"
    assert config.repos == []
    assert config.created_at is not None


async def test_create_with_a_duplicate_name_is_a_400_naming_the_field(
    clients, new_config, world
) -> None:
    writer = clients("WRITE")
    await new_config(writer, name="twin")
    with pytest.raises(BadRequestError) as caught:
        await new_config(writer, name="twin")
    assert caught.value.status == 400
    assert "name" in caught.value.message
    assert caught.value.request == "POST /ai/llm"
    names = [c.name for c in (await writer.get_ai_llms(world.workspace_id)).ai_llms]
    assert names.count("twin") == 1


async def test_create_with_a_bad_endpoint_is_a_400_naming_the_field(clients, world) -> None:
    # The client model refuses this too; model_construct sends what an older client might.
    body = AiLlmCreate.model_construct(
        name="bad-endpoint", ai_type=AiType.OTHER, endpoint="ftp://127.0.0.1/v1",
        workspace_id=world.workspace_id,
    )
    with pytest.raises(BadRequestError) as caught:
        await clients("ADMIN").create_ai_llm(body)
    assert "endpoint" in caught.value.message


async def test_create_in_an_unknown_workspace_is_refused(clients) -> None:
    body = AiLlmCreate(name="orphan", ai_type=AiType.OPENAI, workspace_id=UNKNOWN_ID)
    with pytest.raises(NotFoundError) as caught:
        await clients("ADMIN").create_ai_llm(body)
    assert "workspace" in caught.value.message


# -- update ---------------------------------------------------------------------------------


async def test_update_is_partial(clients, new_config, world) -> None:
    writer = clients("WRITE")
    config_id = await new_config(writer, name="before", key="key-abcdefgh-1111")
    answer = await writer.update_ai_llm(config_id, AiLlmUpdate(name="after"))
    assert answer.success and answer.ai_llm_id == config_id
    config = find((await writer.get_ai_llms(world.workspace_id)).ai_llms, config_id)
    assert config is not None
    assert (config.name, config.key, config.ai_type) == ("after", "****1111", AiType.OPENAI)


async def test_update_errors(clients, new_config) -> None:
    writer = clients("WRITE")
    first = await new_config(writer, name="first")
    await new_config(writer, name="second")
    with pytest.raises(BadRequestError) as caught:
        await writer.update_ai_llm(first, AiLlmUpdate(name="second"))
    assert "name" in caught.value.message
    with pytest.raises(NotFoundError) as missing:
        await writer.update_ai_llm(UNKNOWN_ID, AiLlmUpdate(name="x"))
    assert missing.value.request == f"PUT /ai/llm/{UNKNOWN_ID}"


# -- delete ---------------------------------------------------------------------------------


async def test_delete_removes_for_good(clients, new_config, world) -> None:
    writer = clients("WRITE")
    config_id = await new_config(writer)
    assert (await writer.delete_ai_llm(config_id)).success
    assert find((await writer.get_ai_llms(world.workspace_id)).ai_llms, config_id) is None
    with pytest.raises(NotFoundError):
        await writer.delete_ai_llm(config_id)


async def test_delete_of_a_configuration_in_use_is_a_403(
    clients, new_config, world, platform
) -> None:
    writer = clients("ADMIN")
    config_id = await new_config(writer)
    admin.add_repo(platform.data_dir, "docs-bot", world.workspace_id, config_id)

    with pytest.raises(ForbiddenError) as caught:
        await writer.delete_ai_llm(config_id)
    assert caught.value.status == 403
    assert caught.value.request == f"DELETE /ai/llm/{config_id}"
    config = find((await writer.get_ai_llms(world.workspace_id)).ai_llms, config_id)
    assert config is not None
    assert [repo.name for repo in config.repos] == ["docs-bot"]


# -- validate and available -----------------------------------------------------------------


async def test_validate_success_makes_it_available(clients, new_config) -> None:
    writer = clients("WRITE")
    config_id = await new_config(writer)
    assert find((await writer.get_available_ai_llms()).ai_llms, config_id) is None

    answer = await writer.validate_ai_llm(config_id)
    assert answer.success, answer.message
    assert find((await writer.get_available_ai_llms()).ai_llms, config_id) is not None


async def test_failed_validation_is_an_answer_not_an_exception(clients, new_config) -> None:
    writer = clients("WRITE")
    config_id = await new_config(writer, secret="sk-wrong")
    answer = await writer.validate_ai_llm(config_id)
    assert answer.success is False
    assert answer.message
    assert find((await writer.get_available_ai_llms()).ai_llms, config_id) is None


async def test_changing_the_secret_makes_it_unavailable_again(clients, new_config) -> None:
    writer = clients("WRITE")
    config_id = await new_config(writer)
    assert (await writer.validate_ai_llm(config_id)).success
    await writer.update_ai_llm(config_id, AiLlmUpdate(secret="sk-rotated"))
    assert find((await writer.get_available_ai_llms()).ai_llms, config_id) is None


async def test_available_is_newest_first(clients, new_config) -> None:
    writer = clients("WRITE")
    older = await new_config(writer)
    newer = await new_config(writer)
    for config_id in (older, newer):
        assert (await writer.validate_ai_llm(config_id)).success
    ids = [c.id for c in (await writer.get_available_ai_llms()).ai_llms]
    assert ids.index(newer) < ids.index(older)


async def test_validate_unknown_id_is_a_404(clients) -> None:
    with pytest.raises(NotFoundError) as caught:
        await clients("READ").validate_ai_llm(UNKNOWN_ID)
    assert caught.value.request == f"POST /ai/llm/{UNKNOWN_ID}/validate"


# -- stats ----------------------------------------------------------------------------------


async def test_stats_of_all_and_of_one(clients, new_config) -> None:
    writer = clients("WRITE")
    first = await new_config(writer)
    second = await new_config(writer)

    everything = {s.ai_llm_id: s for s in (await writer.get_ai_llm_stats()).stats}
    assert {first, second} <= everything.keys()
    assert everything[first].total_api_calls == 0

    only = (await writer.get_ai_llm_stats(second)).stats
    assert [s.ai_llm_id for s in only] == [second]


async def test_stats_of_an_unknown_id_is_a_404(clients) -> None:
    with pytest.raises(NotFoundError):
        await clients("READ").get_ai_llm_stats(UNKNOWN_ID)


@pytest.mark.parametrize("series", ["minute", "daily"])
async def test_usage_series(clients, new_config, series: str) -> None:
    writer = clients("WRITE")
    config_id = await new_config(writer)
    fetch = getattr(writer, f"get_ai_stats_{series}")
    now = datetime.now(UTC)
    answer = await fetch(now - timedelta(days=1), now, [config_id])
    assert answer.success
    assert all(point.ai_llm_id == config_id for point in answer.data)
    assert (await fetch()).success


async def test_usage_counts_arrive_as_exact_integers(clients, new_config, platform) -> None:
    """Counters are decimal strings on the wire (64-bit) and exact ints in the client."""
    writer = clients("WRITE")
    config_id = await new_config(writer)
    big = 2**53 + 1  # not representable as a JSON double
    with PlatformState.open(platform.data_dir) as state:
        usage_store.record_usage(state.db.conn(), config_id, tokens_in=big, api_calls=3,
                           latency_ms=3 * 120.0, llm_model="fake-gpt-small")

    totals = (await writer.get_ai_llm_stats(config_id)).stats
    assert [(s.total_tokens_in, s.total_api_calls) for s in totals] == [(big, 3)]
    for fetch in (writer.get_ai_stats_minute, writer.get_ai_stats_daily):
        points = (await fetch(ai_llm_ids=[config_id])).data
        assert [(p.ai_llm_id, p.tokens_in, p.api_calls) for p in points] == [(config_id, big, 3)]
        assert points[0].llm_model == "fake-gpt-small"
        assert points[0].latency_ms == pytest.approx(120.0)  # mean per call
        assert points[0].timestamp > 1_600_000_000_000  # Unix ms


@pytest.mark.parametrize("series", ["minute", "daily"])
async def test_usage_series_with_a_bad_date_is_a_400(clients, series: str) -> None:
    fetch = getattr(clients("READ"), f"get_ai_stats_{series}")
    with pytest.raises(BadRequestError) as caught:
        await fetch(start="yesterday")
    assert "startDate" in caught.value.message


# -- workspaces -----------------------------------------------------------------------------


async def test_workspaces_list_and_get(clients, world) -> None:
    reader = clients("READ")
    listed = {w.id: w for w in (await reader.get_workspaces()).workspaces}
    assert listed.keys() == {world.workspace_id}
    workspace = (await reader.get_workspace(world.workspace_id)).workspace
    assert workspace.name == world.workspace_name
    roles = {m.user.email: m.role for m in workspace.users if m.user}
    assert roles == {world.emails[r]: Role(r) for r in ("READ", "WRITE", "ADMIN")}


async def test_unknown_workspace_is_a_404(clients) -> None:
    with pytest.raises(NotFoundError):
        await clients("ADMIN").get_workspace(UNKNOWN_ID)


async def test_another_workspace_is_invisible_even_to_an_admin(
    clients, new_config, platform
) -> None:
    """A configuration in a workspace the caller does not belong to answers 404, not 403."""
    async with FlashbackClient(platform.url, token=platform.admin_token) as local_admin:
        default = (await local_admin.get_workspaces()).workspaces[0]
        elsewhere = await new_config(local_admin, workspace_id=default.id)
    outsider = clients("ADMIN")  # ADMIN of the world workspace only
    calls = [
        outsider.update_ai_llm(elsewhere, AiLlmUpdate(name="taken-over")),
        outsider.delete_ai_llm(elsewhere),
        outsider.validate_ai_llm(elsewhere),
        outsider.get_ai_llm_stats(elsewhere),
        outsider.get_ai_llms(default.id),
        outsider.get_workspace(default.id),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            await call
    assert find((await outsider.get_ai_llms()).ai_llms, elsewhere) is None


# -- 401 --------------------------------------------------------------------------------------


async def test_missing_token_is_a_401(platform) -> None:
    async with FlashbackClient(platform.url) as anonymous:
        with pytest.raises(UnauthorizedError) as caught:
            await anonymous.get_ai_llms()
    assert caught.value.status == 401
    assert caught.value.message


async def test_expired_token_is_a_401(platform, world) -> None:
    expired = admin.create_token(platform.data_dir, world.emails["ADMIN"], ttl_seconds=-1)
    async with FlashbackClient(platform.url, token=expired) as client:
        with pytest.raises(UnauthorizedError) as caught:
            await client.get_workspace(world.workspace_id)
    assert "expired" in caught.value.message
    assert caught.value.request == f"GET /workspace/{world.workspace_id}"


async def test_one_connection_serves_many_calls(platform, world) -> None:
    """Keep-alive: consecutive calls reuse one TCP connection."""
    local_ports: set[int] = set()

    class Observed(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            stream = response.extensions["network_stream"]
            local_ports.add(stream.get_extra_info("client_addr")[1])
            return response

    client = FlashbackClient(platform.url, token=world.tokens["READ"], transport=Observed())
    async with client:
        for _ in range(5):
            await client.get_ai_llms()
            await client.get_workspaces()
    assert len(local_ports) == 1


async def test_an_unchanged_list_is_not_downloaded_again(platform, world, new_config) -> None:
    """Repeated GETs are conditional: a 304 hands back the answer already parsed."""
    statuses: list[int] = []

    class Observed(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            statuses.append(response.status_code)
            return response

    client = FlashbackClient(platform.url, token=world.tokens["WRITE"], transport=Observed())
    async with client:
        first = await client.get_ai_llms(world.workspace_id)
        again = await client.get_ai_llms(world.workspace_id)
        assert again is first and statuses == [200, 304]

        created = await new_config(client)
        changed = await client.get_ai_llms(world.workspace_id)
        assert changed is not first and created in {llm.id for llm in changed.ai_llms}
        assert statuses[-1] == 200
        everywhere = await client.get_ai_llms()  # another query: its own answer
        assert everywhere is not changed and statuses[-1] == 200
