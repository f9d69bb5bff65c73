"""OAuth2 with a refresh token, on dlt's OAuth2 base: what QuickBooks Online and many others use.

dlt ships the client-credentials grant; this is the same flow with `grant_type=refresh_token`,
the client authenticating with HTTP Basic as RFC 6749 (2.3.1) recommends.
"""

from __future__ import annotations

import base64
from typing import Any

from dlt.common.configuration import configspec
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials


@configspec
class OAuth2RefreshToken(OAuth2ClientCredentials):
    refresh_token: str = None  # type: ignore[assignment]

    def build_access_token_request(self) -> dict[str, Any]:
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return {
            "headers": {
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Basic {basic}",
            },
            "data": {
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token,
                **self.access_token_request_data,
            },
        }
