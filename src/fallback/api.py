"""The API root: token auth, org scoping, and each app's router mounted under /api/."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer

from fallback import __version__
from fallback.accounts.models import ApiToken
from fallback.audit.context import set_actor
from fallback.audit.models import Via


class TokenAuth(HttpBearer):
    """`Authorization: Bearer fbk_…` — a per-user token from Settings → API tokens."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = ApiToken.authenticate(token)
        if user is None:
            return None
        request.user = user
        set_actor(user, Via.API)
        return user


api = NinjaAPI(
    title="Fallback API",
    version=__version__,
    description="Org-scoped API. Authenticate with `Authorization: Bearer <token>`; "
    "make a token under Settings → API tokens. An organisation you do not belong to "
    "answers 404, as if it did not exist.",
    auth=TokenAuth(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    urls_namespace="api",
)

from fallback.accounts.api import router as accounts_router  # noqa: E402
from fallback.comms.api import router as comms_router  # noqa: E402
from fallback.comms.followup_api import router as followup_router  # noqa: E402
from fallback.desk.api import router as desk_router  # noqa: E402
from fallback.incidents.api import router as incidents_router  # noqa: E402
from fallback.monitor.api import push_router  # noqa: E402
from fallback.monitor.api import router as monitor_router  # noqa: E402
from fallback.monitor.sla_claims_api import router as sla_claims_router  # noqa: E402
from fallback.plans.api import router as plans_router  # noqa: E402
from fallback.replica.api import router as replica_router  # noqa: E402
from fallback.vault.api import router as vault_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/", monitor_router)
api.add_router("/", sla_claims_router)
api.add_router("/", incidents_router)
api.add_router("/", replica_router)
api.add_router("/", desk_router)
api.add_router("/", comms_router)
api.add_router("/", followup_router)
api.add_router("/", vault_router)
api.add_router("/", plans_router)
# Heartbeat pings: unauthenticated (auth=None on the operation), the secret URL is the key.
api.add_router("/", push_router)
