"""Scalar types, enums and base classes shared by every wire model.

Field names are camelCase on the wire (``by_alias``) and snake_case in Python. Secrets are
``SecretStr`` from the moment they are read; they serialize to plaintext only in JSON mode,
i.e. only when a request is actually sent. Nothing here imports FastAPI or textual.

Answers are read tolerantly, because a newer platform may send more than this version knows:
unknown fields are ignored, an unknown enum value (a sixth ``aiType``, a new role) is kept as
it came (:data:`Open`), and one row that does not decode never fails a whole list
(:data:`Rows`). Requests are read strictly: they are what the local server accepts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    WrapValidator,
    model_serializer,
)
from pydantic.alias_generators import to_camel

logger = logging.getLogger("flashback_tui.api")

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# Enums
# ---------------------------------------------------------------------------------------------


class AiType(StrEnum):
    """The provider family of a configuration."""

    OPENAI = "OPENAI"
    GOOGLE = "GOOGLE"
    ANTHROPIC = "ANTHROPIC"
    AWS = "AWS"
    OTHER = "OTHER"


class Role(StrEnum):
    """A member's access to a workspace (``AccessType``). READ < WRITE < ADMIN."""

    READ = "READ"
    WRITE = "WRITE"
    ADMIN = "ADMIN"

    @property
    def can_write(self) -> bool:
        """WRITE and ADMIN may create, update and delete configurations."""
        return self in (Role.WRITE, Role.ADMIN)


class OrgRole(IntEnum):
    """A user's role in the organisation (``orgRole``, a number on the wire)."""

    USER = 0
    BILLING = 1
    WORKSPACES = 2
    ADMINISTRATORS = 254
    OWNER = 255

    @property
    def manages_workspaces(self) -> bool:
        """OWNER and ADMINISTRATORS create, rename and delete workspaces."""
        return self in (OrgRole.ADMINISTRATORS, OrgRole.OWNER)


def org_role_name(value: int | None) -> str:
    """``OWNER`` for 255, the number itself for a role this version does not know."""
    if value is None:
        return "-"
    try:
        return OrgRole(value).name
    except ValueError:
        return str(value)


class RiskType(StrEnum):
    """A policy's risk, and a violation's severity."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class PolicyAction(IntEnum):
    """What a matching policy does (``actionType``)."""

    LOG = 0
    ALERT = 1
    BLOCK = 2


class StorageType(StrEnum):
    """A repository's storage kind (opaque to AI features)."""

    S3 = "S3"
    GCS = "GCS"
    BLOB = "BLOB"


class ModeType(StrEnum):
    """A repository's storage mode (opaque to AI features)."""

    NORMAL = "NORMAL"
    MIRROR = "MIRROR"


# ---------------------------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------------------------

#: The usual endpoint of each provider; OTHER has none and must be given one.
DEFAULT_ENDPOINTS: dict[AiType, str | None] = {
    AiType.OPENAI: "https://api.openai.com/v1",
    AiType.ANTHROPIC: "https://api.anthropic.com/v1",
    AiType.GOOGLE: "https://generativelanguage.googleapis.com/v1beta",
    AiType.AWS: "https://bedrock.us-east-1.amazonaws.com",
    AiType.OTHER: None,
}

NAME_MAX_LENGTH = 255
ENDPOINT_MAX_LENGTH = 2048
SECRET_MAX_LENGTH = 8192


def format_timestamp(value: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z``, as the platform writes it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


#: A timestamp that is a datetime in Python and an ISO string on the wire.
Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]

def _default_as_text(schema: dict[str, Any]) -> None:
    """A counter's default as the wire writes it (``"0"``, not ``0``)."""
    if isinstance(schema.get("default"), int):
        schema["default"] = str(schema["default"])


#: A 64-bit counter: an int in Python, a decimal string on the wire (and in the schema).
BigCount = Annotated[
    int, PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]+$"}),
    Field(json_schema_extra=_default_as_text),
]


def _reveal(value: SecretStr | str) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


#: What :func:`check_secret_text` allows, as a JSON Schema pattern: printable ASCII without
#: whitespace inside, spaces around it trimmed.
SECRET_PATTERN = r"^\s*[!-~]*\s*$"

#: A secret that masks itself in repr/str/python dumps and is plaintext only in JSON dumps
#: (that is, only in the body of a request actually sent, or a token actually issued). The
#: schema calls it a plain string: an answer that carries one (a new key's secret) shows it.
WireSecret = Annotated[
    SecretStr, PlainSerializer(_reveal, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string"}),
]
#: What a provider credential (checked by :func:`parse_secret`) allows, for its schema.
CREDENTIAL_SCHEMA: dict[str, Any] = {"pattern": SECRET_PATTERN, "maxLength": SECRET_MAX_LENGTH}

def _refuse_control(value: str) -> str:
    """Names are text a person reads: no control characters (NUL, line breaks, escapes)."""
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise ValueError("must not contain control characters (such as line breaks or NUL)")
    return value


_PRINTABLE = "[^\\x00-\\x1f\\x7f-\\x9f]"
#: What a :data:`Name` allows, as a JSON Schema pattern: no control characters, and at least
#: one character that is not a space (names are trimmed).
NAME_PATTERN = f"^{_PRINTABLE}*[^\\x00-\\x1f\\x7f-\\x9f\\s]{_PRINTABLE}*$"

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH),
    AfterValidator(_refuse_control), Field(json_schema_extra={"pattern": NAME_PATTERN}),
]


def _integral(value: Any) -> Any:
    """``10.0`` is the integer 10 (JSON Schema says so); ``10.5`` stays a float, refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: An integer of a request that also takes an integral number written with a fraction.
WholeNumber = Annotated[int, BeforeValidator(_integral)]


def whole_number(**bounds: int) -> Any:
    """:data:`WholeNumber` within ``bounds`` (``ge``, ``lt``, ...), stated in its schema."""
    return Annotated[int, Field(**bounds), BeforeValidator(_integral)]
IdString = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def _keep_unknown(value: Any, handler: Any) -> Any:
    try:
        return handler(value)
    except ValidationError:
        if isinstance(value, str | int) and not isinstance(value, bool):
            return value
        raise


#: An enum of answers: a known value becomes the enum member, an unknown one is kept as is.
Open = Annotated[T, WrapValidator(_keep_unknown)]


def _skip_bad_rows(value: Any, handler: Any) -> Any:
    try:
        return handler(value)
    except ValidationError:
        if not isinstance(value, list):
            raise
    rows, skipped = [], 0
    for item in value:
        try:
            rows.extend(handler([item]))
        except ValidationError:
            skipped += 1
    logger.warning("skipped %d row(s) of an answer that did not decode", skipped)
    return rows


#: A list in an answer: a row that does not decode is skipped (and logged), never fatal.
Rows = Annotated[list[T], WrapValidator(_skip_bad_rows)]


#: What :func:`check_endpoint` allows, for a schema: an http(s) URL with a host, no spaces.
ENDPOINT_SCHEMA: dict[str, Any] = {
    "pattern": (r"^\s*[Hh][Tt][Tt][Pp][Ss]?://(?:[^\s/?#@]*@)?"
                r"(?:[^\x00-\x20\x7f-\x9f\s/?#@:\[\]]+|\[[0-9A-Fa-f]*:[0-9A-Fa-f:.]*\])"
                r"(?::[0-9]{0,5})?(?:[/?#]\S*)?\s*$"),
    "maxLength": ENDPOINT_MAX_LENGTH,
}


def check_endpoint(value: str) -> str:
    """Return the endpoint stripped of spaces and a trailing slash, or raise ValueError.

    Endpoints must be absolute http or https URLs with a host. This is the one home of that
    rule: the server, the client, the CLI and the TUI form all call it.
    """
    value = value.strip()
    if not value:
        raise ValueError("endpoint must not be empty")
    if len(value) > ENDPOINT_MAX_LENGTH:
        raise ValueError(f"endpoint is longer than {ENDPOINT_MAX_LENGTH} characters")
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"endpoint is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("endpoint must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("endpoint must include a host, e.g. https://api.example.com/v1")
    if any(ch.isspace() for ch in value):
        raise ValueError("endpoint must not contain spaces")
    del port
    return value.rstrip("/")


def mask_key(key: str | None) -> str | None:
    """``None``, or ``****`` plus at most the last 4 characters (fewer for short keys)."""
    if not key:
        return None
    visible = 4 if len(key) >= 12 else 0
    return "****" + (key[-visible:] if visible else "")


# ---------------------------------------------------------------------------------------------
# Base classes
# ---------------------------------------------------------------------------------------------

#: Marks a field the local platform adds and the hosted one does not send. Strict-wire mode
#: (``FLASHBACK_STRICT_WIRE``) drops every field so marked from answers.
LOCAL_ONLY: dict[str, Any] = {"x-local-only": True}


def local_field(default: Any = None, **kwargs: Any) -> Any:
    """A field of the local platform's own (see :data:`LOCAL_ONLY`)."""
    return Field(default=default, json_schema_extra=LOCAL_ONLY, **kwargs)


class WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields from servers are ignored.

    Optional means absent: a field whose value is ``None`` is left out of what is written,
    except the fields named in ``keep_null`` (those the contract types ``T | null``), which
    are written as ``null``.
    """

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=False,
        defer_build=True,
    )

    #: Python names of the fields written as ``null`` rather than left out when None.
    keep_null: ClassVar[frozenset[str]] = frozenset()
    #: False for requests, which send an explicit null as null (it means something there).
    omit_none: ClassVar[bool] = True

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler,
                     info: SerializationInfo) -> Any:
        data = handler(self)
        if not isinstance(data, dict) or not self.omit_none:
            return data
        keep = _kept_keys(type(self))
        return {k: v for k, v in data.items() if v is not None or k in keep}

    def to_wire(self) -> dict[str, Any]:
        """The JSON body to send: aliases, only fields that were set, secrets revealed."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


_KEPT: dict[type, frozenset[str]] = {}


def _kept_keys(model: type[WireModel]) -> frozenset[str]:
    """``keep_null`` of ``model`` by Python name and by wire alias."""
    kept = _KEPT.get(model)
    if kept is None:
        names = set(model.keep_null)
        names |= {field.alias for name, field in model.model_fields.items()
                  if name in model.keep_null and field.alias}
        kept = _KEPT[model] = frozenset(names)
    return kept


def _describe_request(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The schema of a request as the server reads it: the fields of ``never_null`` are not
    nullable (they may be omitted, never null), and ``schema_extra`` is merged in."""
    fields = model.model_fields
    properties = schema.get("properties", {})
    for name in getattr(model, "never_null", ()):
        prop = properties.get(fields[name].alias or name, {})
        choices = [c for c in prop.get("anyOf", ()) if c.get("type") != "null"]
        if "anyOf" in prop and len(choices) == 1:
            del prop["anyOf"]
            prop.update(choices[0])
        prop.pop("default", None)
    schema.update(getattr(model, "schema_extra", {}))


class RequestModel(WireModel):
    """A request body: strict about types, so ``{"name": 5}`` is a 400, not a coercion."""

    omit_none: ClassVar[bool] = False
    #: Python names of optional fields that may be omitted but never sent as null.
    never_null: ClassVar[frozenset[str]] = frozenset()
    #: JSON Schema keywords added to the model's schema (rules across fields).
    schema_extra: ClassVar[dict[str, Any]] = {}

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True,
        defer_build=True, json_schema_extra=_describe_request,
    )

    def given_fields(self) -> dict[str, Any]:
        """The fields the sender set, by Python name: a partial update's changes."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def reject_null(value: Any, info: Any) -> Any:
    """A field validator: the field may be omitted but not sent as null."""
    if value is None:
        raise ValueError(f"{info.field_name} must not be null")
    return value


def parse_enum(enum: type[StrEnum], field: str) -> Any:
    """A before-validator that names the allowed values of ``enum`` when one is wrong."""

    def parse(value: Any) -> Any:
        if isinstance(value, str) and value in enum.__members__.values():
            return enum(value)
        if isinstance(value, str):
            allowed = ", ".join(member.value for member in enum)
            raise ValueError(f"{field} must be one of {allowed}")
        return value

    return parse


def check_secret_text(raw: str) -> str | None:
    """Why ``raw`` cannot be a secret or key, or None. The one home of that rule.

    Providers take credentials in HTTP headers, so they must be printable ASCII without
    whitespace inside (spaces around them are trimmed by :func:`parse_secret`). The reason
    never quotes the value.
    """
    if len(raw) > SECRET_MAX_LENGTH:
        return f"must be at most {SECRET_MAX_LENGTH} characters"
    if any(ch.isspace() for ch in raw):
        return "must not contain spaces or line breaks"
    if any(not 0x21 <= ord(ch) <= 0x7E for ch in raw):
        return "must be printable ASCII (no accented letters, symbols or control characters)"
    return None


def parse_secret(value: Any) -> Any:
    """A before-validator for secrets: trimmed, checked, wrapped in ``SecretStr``."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(raw, str):
        raw = raw.strip()
        reason = check_secret_text(raw)
        if reason:
            raise ValueError(reason)
        return SecretStr(raw)
    return value


# ---------------------------------------------------------------------------------------------
# Generic answers
# ---------------------------------------------------------------------------------------------


class SuccessResponse(WireModel):
    """``{success, message?}``: delete calls and most acknowledgements."""

    success: bool
    message: str | None = None


class SuccessOnly(WireModel):
    """``{success}``: workspace deletes and member changes, marking events read."""

    success: bool


class MessageResponse(WireModel):
    """``{success, message}`` with a message always present (key rename and revoke)."""

    success: bool
    message: str


class ErrorResponse(WireModel):
    """The generic error: an HTTP status plus ``{"success": false, "message": ...}``."""

    success: Literal[False] = False
    message: str


class SignInError(WireModel):
    """The sign-in error shape: ``{success: false, error_code?, message?}``."""

    success: Literal[False] = False
    error_code: str | None = Field(default=None, alias="error_code")
    message: str | None = None
