"""Sealed credentials of AI LLM configurations, and where a stored secret may go.

A configuration's key and secret are sealed with the keyring (bound to the row and field).
The secret is also bound to the endpoint origin and provider type it was given for
(``secret_endpoint``, ``secret_ai_type``): :func:`load_credentials` opens it only while the
configuration still points there, so neither a probe nor the gateway ever sends it elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from flashback_tui.api.models import DEFAULT_ENDPOINTS, AiType
from flashback_tui.domain.origins import changes_origin_or_type
from flashback_tui.server.crypto import Keyring, Sealed, associated_data
from flashback_tui.server.sql import Conn, transaction
from flashback_tui.server.store.base import Invalid, NotFound

#: Why a stored secret is not used where a configuration now points.
SECRET_NOT_BOUND = ("secret: the stored secret was given for another endpoint or provider type;"
                    " send the secret again")


def seal(keyring: Keyring, value: SecretStr | None, row_id: str, field: str
         ) -> tuple[str | None, bytes | None]:
    """``(kid, blob)`` of a sealed value, or ``(None, None)`` for none."""
    if value is None:
        return None, None
    sealed = keyring.seal(value.get_secret_value(), aad=associated_data(row_id, field))
    return sealed.kid, sealed.blob


def open_sealed(keyring: Keyring, kid: str | None, blob: bytes | None, row_id: str, field: str
                ) -> SecretStr | None:
    """The plaintext of a sealed value, or None; CryptoError when it cannot be opened."""
    if kid is None or blob is None:
        return None
    plain = keyring.open(Sealed(kid, bytes(blob)), aad=associated_data(row_id, field))
    return SecretStr(plain)


def resolve_endpoint(ai_type: AiType, endpoint: str | None) -> str:
    """The given endpoint, or the type's default; Invalid for OTHER without one."""
    if endpoint:
        return endpoint
    default = DEFAULT_ENDPOINTS.get(ai_type)
    if default is None:
        raise Invalid(f"endpoint: required when aiType is {ai_type.value}, which has no default"
                      " endpoint")
    return default


def secret_bound_to(endpoint: str | None, ai_type: str, secret_endpoint: str | None,
                    secret_ai_type: str | None) -> bool:
    """Whether a secret given for ``secret_endpoint``/``secret_ai_type`` may go to ``endpoint``.

    The one check behind every use of a stored secret (validation probes and the gateway).
    """
    if secret_endpoint is None or secret_ai_type is None:
        return False
    return not changes_origin_or_type(secret_endpoint, secret_ai_type, endpoint, ai_type)


@dataclass(frozen=True)
class Credentials:
    """What a probe or the gateway needs, read at one generation of a configuration.

    ``secret_bound`` False means the configuration no longer points where its secret was
    given; ``secret`` is then None (never opened).
    """

    ai_type: AiType
    endpoint: str
    key: SecretStr | None
    secret: SecretStr | None
    generation: int
    secret_bound: bool = True


def load_credentials(conn: Conn, keyring: Keyring, llm_id: str) -> Credentials:
    """Open a configuration's key, and its secret if it is bound to the current endpoint."""
    row = conn.execute("SELECT * FROM ai_llms WHERE id = ?", (llm_id,)).fetchone()
    if row is None:
        raise NotFound("configuration not found")
    ai_type = AiType(row["ai_type"])
    endpoint = row["endpoint"] or resolve_endpoint(ai_type, None)
    has_secret = row["secret_blob"] is not None
    bound = not has_secret or secret_bound_to(endpoint, ai_type.value, row["secret_endpoint"],
                                              row["secret_ai_type"])
    return Credentials(
        ai_type=ai_type,
        endpoint=endpoint,
        key=open_sealed(keyring, row["key_kid"], row["key_blob"], llm_id, "key"),
        secret=(open_sealed(keyring, row["secret_kid"], row["secret_blob"], llm_id, "secret")
                if bound else None),
        generation=row["generation"],
        secret_bound=bound,
    )


def reseal_all(conn: Conn, keyring: Keyring) -> int:
    """Re-seal every key and secret under the keyring's current key, in one transaction."""
    count = 0
    with transaction(conn):
        rows = conn.execute(
            "SELECT id, key_kid, key_blob, secret_kid, secret_blob FROM ai_llms"
        ).fetchall()
        for row in rows:
            sets: dict[str, Any] = {}
            for field in ("key", "secret"):
                value = open_sealed(keyring, row[f"{field}_kid"], row[f"{field}_blob"],
                                    row["id"], field)
                if value is None:
                    continue
                sets[f"{field}_kid"], sets[f"{field}_blob"] = seal(keyring, value, row["id"],
                                                                   field)
                count += 1
            if sets:
                assignments = ", ".join(f"{column} = ?" for column in sets)
                conn.execute(f"UPDATE ai_llms SET {assignments} WHERE id = ?",  # noqa: S608
                             [*sets.values(), row["id"]])
    return count
