"""Who may put what on the payments bus: each publishing role may put only its own `source`.

Subscribers act on `source` (a `stripe` event moves a payment, a `payments` event books the ledger), so
the source must say who published the event: only the webhook, which verified Stripe's signature, may
put `stripe`; only our other functions may put `payments`. See docs/architecture.md, "Trust model".
"""

from __future__ import annotations

from collections import defaultdict
from fnmatch import fnmatchcase
from typing import Any

import pytest

from infra import catalog
from tests.infra.stacks import Stage, as_list, ref
from tests.infra.test_functions import function, statements_of

PUT_EVENTS = "events:PutEvents"
SOURCE_KEY = "events:source"
PUBLISHERS = [f for f in catalog.FUNCTIONS if f.publishes]
# The one AWS-managed policy in the stack (API Gateway's account-level logging role): logs actions only.
KNOWN_MANAGED_POLICIES = {
    "policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
    "policy/service-role/AWSLambdaBasicExecutionRole",  # CloudWatch Logs only (the console's deployment)
}


def expected_source(spec: catalog.Function) -> str:
    return catalog.STRIPE_EVENT_SOURCE if spec.name == "stripe_webhook" else catalog.DOMAIN_EVENT_SOURCE


def role_id(stage: Stage, spec: catalog.Function) -> str:
    return ref(function(stage, spec)[1]["Role"]).removesuffix(".Arn")


def bus_arn(stage: Stage) -> str:
    return f"{stage.logical_id('Events/Bus/Resource')}.Arn"


def allows_put_events(statement: dict[str, Any]) -> bool:
    """Whether the statement's actions cover events:PutEvents (IAM actions match case-insensitively)."""
    if statement.get("Effect") != "Allow":
        return False

    def covers(patterns: Any) -> bool:
        return any(fnmatchcase(PUT_EVENTS.lower(), str(p).lower()) for p in as_list(patterns))

    if "NotAction" in statement:
        return not covers(statement["NotAction"])
    return covers(statement.get("Action", []))


def sources_allowed(statement: dict[str, Any]) -> set[str]:
    """The sources a PutEvents statement lets its principal put; {"*"} for anything but the one exact form."""
    condition = statement.get("Condition")
    if not condition or set(condition) != {"StringEquals"} or set(condition["StringEquals"]) != {SOURCE_KEY}:
        return {"*"}
    return {str(v) for v in as_list(condition["StringEquals"][SOURCE_KEY])}


def put_events_by_principal(stage: Stage) -> dict[str, set[str]]:
    """Every role, user or group in the template that may put events, with the sources it may put."""
    allowed: dict[str, set[str]] = defaultdict(set)
    for logical_id, resource in stage.resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            attached = [ref(p) for key in ("Roles", "Users", "Groups") for p in props.get(key, [])]
            principals = attached or [logical_id]  # a managed policy attached elsewhere still counts
            documents = [props["PolicyDocument"]]
        elif resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            principals = [logical_id]
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        else:
            continue
        for document in documents:
            for statement in as_list(document["Statement"]):
                if allows_put_events(statement):
                    for principal in principals:
                        allowed[principal] |= sources_allowed(statement)
    return dict(allowed)


@pytest.mark.parametrize("spec", PUBLISHERS, ids=lambda f: f.name)
def test_publisher_may_put_only_its_own_source_on_the_bus(stage: Stage, spec: catalog.Function) -> None:
    (statement,) = [s for s in statements_of(stage, role_id(stage, spec)) if allows_put_events(s)]
    assert as_list(statement["Action"]) == [PUT_EVENTS]
    assert [ref(r) for r in as_list(statement["Resource"])] == [bus_arn(stage)]
    # StringEquals, not ForAllValues:StringEquals: EventBridge authorizes each PutEvents entry on its own
    # Source, and an entry without one then fails the condition instead of passing it vacuously.
    condition = statement.get("Condition", {})
    assert set(condition) == {"StringEquals"}, f"{spec.name} may put any source: {statement}"
    assert {k: as_list(v) for k, v in condition["StringEquals"].items()} == {
        SOURCE_KEY: [expected_source(spec)]
    }


def test_no_role_can_put_the_other_source(stage: Stage) -> None:
    """Every principal of the stack that may put events, and what: the publishers, each its own source."""
    allowed = put_events_by_principal(stage)
    assert allowed == {role_id(stage, spec): {expected_source(spec)} for spec in PUBLISHERS}
    stripe = {principal for principal, sources in allowed.items() if catalog.STRIPE_EVENT_SOURCE in sources}
    assert stripe == {role_id(stage, catalog.function("stripe_webhook"))}


def test_no_managed_policy_we_cannot_read(stage: Stage) -> None:
    """AWS-managed policies are not in the template, so the test above cannot see into them."""
    attached = {
        ref(arn).rsplit(":", 1)[-1]
        for resource in stage.of_type("AWS::IAM::Role").values()
        for arn in resource["Properties"].get("ManagedPolicyArns", [])
    }
    assert attached <= KNOWN_MANAGED_POLICIES


def test_the_bus_has_no_resource_policy(stage: Stage) -> None:
    """No other account can put events on the bus: a grant would need a resource policy on it."""
    _, bus = stage.at("Events/Bus/Resource")
    assert "Policy" not in bus["Properties"]
    assert stage.of_type("AWS::Events::EventBusPolicy") == {}
