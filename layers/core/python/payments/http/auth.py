"""The caller, from what the Cognito User Pool authorizer put in requestContext.authorizer.claims.

Nothing else in the request is trusted for identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from payments.domain.errors import Forbidden, NotFound, Unauthenticated

ADMIN_GROUP = "payments-admin"
_GROUP_SPLIT = re.compile(r"[\s,\[\]]+")


@dataclass(frozen=True)
class Caller:
    sub: str
    is_admin: bool

    def customer_for(self, requested: str | None) -> str:
        """Whose payment this is: the caller's own, or (admins and services only) anyone's."""
        if requested is None or requested == self.sub:
            return self.sub
        if not self.is_admin:
            raise Forbidden("only admins may act for another customer", param="customer_id")
        return requested

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("this operation is for payments admins")

    def ensure_owner(self, customer_id: str, resource: str, resource_id: str) -> None:
        """Another customer's resource answers 404, never 403: no existence oracle."""
        if not self.is_admin and customer_id != self.sub:
            raise NotFound(f"{resource} {resource_id} not found")


def caller_from_event(event: dict[str, Any]) -> Caller:
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthenticated("no authenticated caller")
    groups = claims.get("cognito:groups") or ""
    if isinstance(groups, list):
        names = {str(g) for g in groups}
    else:
        # API Gateway flattens the array claim into a string: "a,b" or "[a b]".
        names = {g for g in _GROUP_SPLIT.split(str(groups)) if g}
    return Caller(sub=sub, is_admin=ADMIN_GROUP in names)
