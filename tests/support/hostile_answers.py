"""What the hostile provider answers in each mode: chat completions and model lists.

:class:`Answer` builds the chat completion of a mode (plain, or encoded stream events) from
the request, as :mod:`tests.support.hostile_provider` documents; :func:`models_body` builds
the ``GET /models`` answer. Nothing here does I/O.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.support.fake_provider import OPENAI_MODELS, count_tokens

TOKEN_VALUES: dict[str, Any] = {
    "tokens-huge": 2**64, "tokens-negative": -7, "tokens-bool": True, "tokens-float": 2.5,
    "tokens-string": "12",
}
SHAPE_MODES = ("shape-tool-calls", "shape-choices", "shape-usage", "shape-content",
               "shape-list", "shape-null")


def models_body(mode: str) -> Any:
    """The ``GET /models`` answer of a mode (shape modes bend it)."""
    data: Any = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "hostile"}
                 for m in OPENAI_MODELS]
    if mode == "shape-tool-calls":
        data = [{"id": 5, "object": "model"}]
    elif mode == "shape-choices":
        data = data[0]
    elif mode == "shape-usage":
        data = "fake-gpt-small"
    body: Any = {"object": "list", "data": data}
    if mode == "shape-list":
        return [body]
    return None if mode == "shape-null" else body


class Answer:
    """The chat completion a mode answers, plain or as a list of encoded stream events."""

    def __init__(self, mode: str, request: dict[str, Any]) -> None:
        self.mode = mode
        messages = request.get("messages")
        if not isinstance(messages, list):
            messages = []
        messages = [m for m in messages if isinstance(m, dict)]
        last = next((str(m.get("content") or "") for m in reversed(messages)
                     if m.get("role") == "user"), "")
        self.text = f"You said: {last}".strip()
        self.model = str(request.get("model") or OPENAI_MODELS[0])
        self.include_usage = bool((request.get("stream_options") or {}).get("include_usage")
                                  if isinstance(request.get("stream_options"), dict) else False)
        prompt = sum(count_tokens(str(m.get("content") or "")) for m in messages)
        completion = count_tokens(self.text)
        self.usage: Any = {"prompt_tokens": prompt, "completion_tokens": completion,
                           "total_tokens": prompt + completion}
        if mode in TOKEN_VALUES:
            self.usage = dict.fromkeys(self.usage, TOKEN_VALUES[mode])
        elif mode == "shape-usage":
            self.usage = "plenty"
        self.id = f"chatcmpl-hostile-{time.monotonic_ns()}"
        self.created = int(time.time())

    def _wrap(self, body: Any) -> Any:
        if self.mode == "shape-list":
            return [body]
        return None if self.mode == "shape-null" else body

    def _choices(self, choice: dict[str, Any]) -> Any:
        return choice if self.mode == "shape-choices" else [choice]

    def plain(self) -> Any:
        """The non-streamed answer."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.mode == "shape-tool-calls":
            message = {"role": "assistant", "content": None, "tool_calls": 5}
        elif self.mode == "shape-content":
            message["content"] = 42
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return self._wrap({"id": self.id, "object": "chat.completion", "created": self.created,
                           "model": self.model, "choices": self._choices(choice),
                           "usage": self.usage})

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        """One ``chat.completion.chunk`` with a single choice."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "choices": self._choices(choice)}

    def events(self) -> list[bytes]:
        """The encoded ``data:`` payloads of the streamed answer, ``[DONE]`` included."""
        words = self.text.split(" ")
        deltas: list[dict[str, Any]] = [
            {"content": w if i == 0 else f" {w}"} for i, w in enumerate(words)]
        if self.mode == "shape-tool-calls":
            deltas = [{"tool_calls": 5} for _ in words]
        elif self.mode == "shape-content":
            deltas = [{"content": 42} for _ in words]
        events: list[Any] = [self.chunk({"role": "assistant", "content": ""})]
        events += [self.chunk(d) for d in deltas]
        events.append(self.chunk({}, "stop"))
        if self.include_usage or self.mode in TOKEN_VALUES or self.mode == "shape-usage":
            events.append({"id": self.id, "object": "chat.completion.chunk",
                           "created": self.created, "model": self.model, "choices": [],
                           "usage": self.usage})
        encoded = [json.dumps(self._wrap(e)).encode() for e in events]
        if self.mode == "malformed-event":
            encoded.insert(1, b'{"id": "chatcmpl-')
        return [*encoded, b"[DONE]"]
