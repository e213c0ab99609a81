"""Every catalog function: runtime, settings, environment and an IAM policy that is exactly the catalog's."""

from __future__ import annotations

from typing import Any

import pytest

from infra import catalog
from infra.aws.config import DEFAULTS
from infra.aws.naming import construct_id
from tests.infra.stacks import Stage, as_list, missing_function_code, ref

FUNCTIONS = pytest.mark.parametrize("spec", catalog.FUNCTIONS, ids=lambda f: f.name)
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL", "STAGE"}


def function(stage: Stage, spec: catalog.Function) -> tuple[str, dict[str, Any]]:
    logical_id, resource = stage.at(f"Functions/{construct_id(spec.name)}/Function/Resource")
    return logical_id, resource["Properties"]


def table_id(stage: Stage, table: catalog.Table) -> str:
    return stage.logical_id(f"Tables/{construct_id(table.name)}/Resource")


def secret_id(stage: Stage, secret: catalog.Secret) -> str:
    return stage.logical_id(f"Security/{construct_id(secret.name)}/Resource")


def expected_permissions(stage: Stage, spec: catalog.Function) -> set[tuple[str, str]]:
    """(action, resource) pairs derived from the catalog alone."""
    key = f"{stage.logical_id('Security/Key/Resource')}.Arn"
    expected: set[tuple[str, str]] = set()
    for table, access in spec.tables.items():
        arn = f"{table_id(stage, table)}.Arn"
        expected |= {(action, arn) for action in access.actions}
        expected |= {("dynamodb:Query", f"{arn}/index/{name}") for name in access.indexes_of(table)}
    if spec.tables or spec.secrets:
        expected.add(("kms:Decrypt", key))
    if any(access.stores for access in spec.tables.values()):
        expected |= {("kms:Encrypt", key), ("kms:GenerateDataKey", key)}
    expected |= {("secretsmanager:GetSecretValue", secret_id(stage, s)) for s in spec.secrets}
    if spec.publishes:
        expected.add(("events:PutEvents", f"{stage.logical_id('Events/Bus/Resource')}.Arn"))
    expected |= {
        ("lambda:InvokeFunction", f"arn:AWS::Partition:lambda:AWS::Region:AWS::AccountId:function:{pattern}")
        for pattern in spec.invokes
    }
    logs = f"{stage.logical_id(f'Functions/{construct_id(spec.name)}/Logs/Resource')}.Arn"
    expected |= {("logs:CreateLogStream", logs), ("logs:PutLogEvents", logs)}
    expected |= {("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*")}
    if spec.subscription or spec.schedule_minutes:
        dlq = stage.logical_id(f"Events/{construct_id(spec.name)}DeadLetters/Resource")
        expected.add(("sqs:SendMessage", f"{dlq}.Arn"))
    return expected


def statements_of(stage: Stage, role_id: str) -> list[dict[str, Any]]:
    policies = stage.of_type("AWS::IAM::Policy").values()
    return [
        statement
        for policy in policies
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_function_code_exists() -> None:
    """Synthesis of the real app needs functions/<name>/app.py for every catalog function."""
    assert missing_function_code() == []


@FUNCTIONS
def test_runtime_and_settings(stage: Stage, spec: catalog.Function) -> None:
    _, props = function(stage, spec)
    assert props["Runtime"] == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "app.handler"
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_s
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert {ref(layer) for layer in props["Layers"]} == {
        stage.logical_id("Functions/Layers/Core/Resource"),
        stage.logical_id("Functions/Layers/Deps/Resource"),
    }
    log_group_id, log_group = stage.at(f"Functions/{construct_id(spec.name)}/Logs/Resource")
    assert ref(props["LoggingConfig"]["LogGroup"]) == log_group_id
    assert log_group["Properties"]["RetentionInDays"] == DEFAULTS[stage.name].log_retention_days


@FUNCTIONS
def test_environment_names_resources_and_powertools(stage: Stage, spec: catalog.Function) -> None:
    _, props = function(stage, spec)
    env = props["Environment"]["Variables"]
    expected_names = {t.env for t in spec.tables} | {s.env for s in spec.secrets}
    if spec.publishes:
        expected_names.add(catalog.EVENT_BUS_ENV)
    # Who is an admin and which routes are theirs: every function behind the authorizer is told.
    if spec.route and spec.route.authorizer:
        expected_names |= {"ADMIN_GROUP", "ADMIN_ROUTES", "SERVICE_SCOPE"}
        assert env["ADMIN_GROUP"] == catalog.ADMIN_GROUP
        assert set(env["ADMIN_ROUTES"].split(",")) == set(catalog.admin_routes())
        assert env["SERVICE_SCOPE"] == catalog.SERVICE_SCOPE
    # Whose order tokens to take: the issuer goes with their keys (tests/infra/test_service_callers.py).
    if catalog.ORDER_TOKEN_KEYS in spec.secrets:
        expected_names.add(catalog.ORDER_TOKEN_ISSUER_ENV)
    # What to forward: the webhook is told every Stripe type a subscriber takes.
    if spec.publishes == catalog.STRIPE_EVENT_SOURCE:
        expected_names.add("STRIPE_EVENT_TYPES")
        assert env["STRIPE_EVENT_TYPES"].split(",") == list(catalog.forwarded_stripe_events())
    assert set(env) - POWERTOOLS - {"POWERTOOLS_TRACER_CAPTURE_RESPONSE"} == expected_names
    assert env["POWERTOOLS_SERVICE_NAME"] == catalog.SERVICE_NAME
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == catalog.METRICS_NAMESPACE
    assert env["POWERTOOLS_LOG_LEVEL"] == DEFAULTS[stage.name].log_level
    assert env["STAGE"] == stage.name
    for table in spec.tables:
        assert ref(env[table.env]) == table_id(stage, table), table.env
    if spec.publishes:
        assert ref(env[catalog.EVENT_BUS_ENV]) == stage.logical_id("Events/Bus/Resource")


@FUNCTIONS
def test_secrets_reach_functions_by_name_only(stage: Stage, spec: catalog.Function) -> None:
    _, props = function(stage, spec)
    env = props["Environment"]["Variables"]
    secret_ids = set(stage.of_type("AWS::SecretsManager::Secret"))
    for secret in spec.secrets:
        name = stage.resources[secret_id(stage, secret)]["Properties"]["Name"]
        assert env[secret.env] == name == DEFAULTS[stage.name].physical_name(secret.name)
    for value in env.values():
        text = ref(value)
        assert "resolve:secretsmanager" not in text
        assert not any(secret in text for secret in secret_ids), f"{text} derives from a secret"


def test_secrets_values_never_in_the_template(stage: Stage) -> None:
    for secret in catalog.SECRETS:
        props = stage.resources[secret_id(stage, secret)]["Properties"]
        assert "SecretString" not in props
        assert ("GenerateSecretString" in props) is secret.generated
        assert ref(props["KmsKeyId"]) == f"{stage.logical_id('Security/Key/Resource')}.Arn"


@FUNCTIONS
def test_iam_is_exactly_what_the_catalog_grants(stage: Stage, spec: catalog.Function) -> None:
    _, props = function(stage, spec)
    role_id = ref(props["Role"]).removesuffix(".Arn")
    role = stage.resources[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert "Policies" not in role
    statements = statements_of(stage, role_id)
    assert all(s["Effect"] == "Allow" for s in statements)
    actual = {
        (action, ref(resource))
        for s in statements
        for action in as_list(s["Action"])
        for resource in as_list(s["Resource"])
    }
    assert actual == expected_permissions(stage, spec)


@FUNCTIONS
def test_key_is_usable_only_through_the_services_holding_data(stage: Stage, spec: catalog.Function) -> None:
    _, props = function(stage, spec)
    kms = [
        s
        for s in statements_of(stage, ref(props["Role"]).removesuffix(".Arn"))
        if "kms:Decrypt" in as_list(s["Action"])
    ]
    if not (spec.tables or spec.secrets):
        assert kms == []
        return
    (statement,) = kms
    services = {s.split(".")[0] for s in as_list(statement["Condition"]["StringEquals"]["kms:ViaService"])}
    expected = {"dynamodb"} if spec.tables else set()
    if spec.secrets:
        expected.add("secretsmanager")
    assert services == expected


@FUNCTIONS
def test_snapstart_where_the_catalog_asks(stage: Stage, spec: catalog.Function) -> None:
    function_id, props = function(stage, spec)
    aliases = [
        r["Properties"]
        for r in stage.of_type("AWS::Lambda::Alias").values()
        if ref(r["Properties"]["FunctionName"]) == function_id
    ]
    if spec.snapstart:
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        (alias,) = aliases
        version = stage.resources[ref(alias["FunctionVersion"]).removesuffix(".Version")]
        assert version["Type"] == "AWS::Lambda::Version"
    else:
        assert "SnapStart" not in props
        assert aliases == []
