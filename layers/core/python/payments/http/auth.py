"""The caller, from what the Cognito User Pool authorizer put in requestContext.authorizer.claims.

Nothing else in the request is trusted for identity. Every authorized method takes access tokens with
one of the catalog's API_SCOPES (docs/architecture.md, Trust model), so a caller is one of:

- a service: its token's `scope` holds the SERVICE_SCOPE setting (`payments/service`, granted only by
  the service app client's client-credentials flow; its `sub` is that client's id);
- an admin: a person in the group named exactly as the ADMIN_GROUP setting;
- a customer: any other person.

Services and admins are trusted callers: they may act for any customer and state a payment's terms
(docs/risk.md, Amounts from the order). Admin rights are an admin's alone: the routes flagged admin_only
in the catalog (ADMIN_ROUTES) refuse everyone else, services included, before any handler runs.

A REST API's Cognito authorizer hands every claim on as a string: `scope` as the token's space-separated
scopes, and the `cognito:groups` array as one of:

- "[a b]": the names between brackets, separated by spaces. Exact: a Cognito group name is letters,
  marks, symbols, digits and punctuation, never whitespace, so "[x,payments-admin]" is the one group
  "x,payments-admin" and "[[payments-admin]" the one group "[payments-admin".
- "a" or "a,b": one name as it is, or names joined by commas. A name may hold a comma, so "a,b" cannot
  tell the groups "a" and "b" from one group "a,b": such a claim names no group we can trust and grants
  no admin rights (where the authorizer flattens this way, an admin must be in the admin group only).
- a list (direct invocations, other authorizers): its strings, exactly.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

from payments.config import settings
from payments.domain.errors import Forbidden, Unauthenticated

CallerKind = Literal["customer", "admin", "service"]


@dataclass(frozen=True)
class Caller:
    sub: str
    kind: CallerKind = "customer"

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    @property
    def trusted(self) -> bool:
        """May act for any customer and state a payment's terms (services and admins)."""
        return self.kind != "customer"

    @property
    def as_customer(self) -> str | None:
        """The customer the caller is, when it names none: a person is, a service is no customer."""
        return None if self.kind == "service" else self.sub

    def acting_for(self, requested: str | None) -> str | None:
        """The customer a request names (None: none): anyone for admins and services, a customer only
        themselves."""
        if requested is not None and requested != self.sub and not self.trusted:
            raise Forbidden("only admins and services may act for another customer", param="customer_id")
        return requested


def caller_from_event(event: dict[str, Any]) -> Caller:
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthenticated("no authenticated caller")
    config = settings()
    if config.require("service_scope") in scopes(claims.get("scope")):
        return Caller(sub=sub, kind="service")
    if config.require("admin_group") in group_names(claims.get("cognito:groups")):
        return Caller(sub=sub, kind="admin")
    return Caller(sub=sub)


def scopes(claim: Any) -> frozenset[str]:
    """The scopes of an access token's `scope` claim: space-separated (RFC 6749), a list elsewhere."""
    if isinstance(claim, (list, tuple)):
        return frozenset(name for name in claim if isinstance(name, str))
    return frozenset(claim.split()) if isinstance(claim, str) else frozenset()


def authorize_route(event: dict[str, Any]) -> None:
    """Refuse a non-admin on an admin-only route. The route is API Gateway's resource template (which
    the client cannot choose) or, should an event lack it, the path the resolver will route: either one
    naming an admin-only route is enough."""
    method, template, path = event.get("httpMethod"), event.get("resource"), str(event.get("path") or "")
    for route in settings().items_of("admin_routes"):
        route_method, _, route_template = route.partition(" ")
        if method != route_method:
            continue
        if template == route_template or _template_pattern(route_template).search(path):
            if not caller_from_event(event).is_admin:
                raise Forbidden("this operation is for payments admins")
            return


@functools.cache
def _template_pattern(template: str) -> re.Pattern[str]:
    """ "/payments/{payment_id}/capture" as a pattern for a path's end (after any stage or base path)."""
    parts = (r"[^/]+" if part.startswith("{") else re.escape(part) for part in template.split("/"))
    return re.compile("/".join(parts) + r"/?$")


def group_names(claim: Any) -> frozenset[str]:
    """The group names the claim states unambiguously (see the module's docstring)."""
    if isinstance(claim, (list, tuple)):
        return frozenset(name for name in claim if isinstance(name, str))
    if not isinstance(claim, str) or not claim:
        return frozenset()
    if claim.startswith("[") and claim.endswith("]"):
        return frozenset(claim[1:-1].split())
    if "," in claim or claim != claim.strip():
        return frozenset()
    return frozenset({claim})
