"""AWS Bedrock endpoints for validation: regions, control-plane hosts and SigV4 signing."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

DEFAULT_AWS_REGION = "us-east-1"

_BEDROCK_HOST = re.compile(
    r"(?:^|\.)bedrock(?P<runtime>-runtime)?(?P<fips>-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$"
)


def bedrock_region(endpoint: str) -> str:
    """The AWS region of a Bedrock endpoint's host name, else ``us-east-1``."""
    match = _BEDROCK_HOST.search(urlsplit(endpoint).hostname or "")
    return match["region"] if match else DEFAULT_AWS_REGION


def bedrock_control_endpoint(endpoint: str) -> str:
    """The endpoint that lists models: a ``bedrock-runtime`` host maps to ``bedrock``.

    Configurations often hold the runtime endpoint (where completions go), but the model
    list is served by the control-plane host of the same region.
    """
    parts = urlsplit(endpoint)
    match = _BEDROCK_HOST.fullmatch(parts.hostname or "")
    if match is None or not match["runtime"]:
        return endpoint
    host = f"bedrock{match['fips'] or ''}.{match['region']}.amazonaws.com"
    return urlunsplit((parts.scheme, host, "", "", ""))


def sign_bedrock(url: str, headers: dict[str, str], key: str, secret: str) -> dict[str, str]:
    """Headers signed with SigV4 for the ``bedrock`` service (botocore, loaded on demand)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=url, headers=dict(headers))
    SigV4Auth(Credentials(key, secret), "bedrock", bedrock_region(url)).add_auth(request)
    return dict(request.headers.items())
