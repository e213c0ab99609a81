"""Lambda functions: one construct, instantiated for every function of the catalog.

Each function gets its own role whose policy is generated from what the catalog says it touches, and
nothing else: no managed policies, no `grant*` helpers that add more than the catalog asks for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import catalog
from infra.aws import naming
from infra.aws.bundling import ARCHITECTURE, RUNTIME, deps_layer_code
from infra.aws.config import REPO_ROOT, StageConfig
from infra.aws.nag import acknowledge
from infra.aws.naming import construct_id

HANDLER = "app.handler"
INDEX_QUERY = "dynamodb:Query"  # the one action a function takes on an index (writes never target one)
ASSET_EXCLUDES = ["__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"]


@dataclass(frozen=True)
class Resources:
    """What a function may be wired to, by catalog name."""

    key: kms.IKey
    tables: Mapping[str, dynamodb.ITable]
    secrets: Mapping[str, secretsmanager.ISecret]
    secret_names: Mapping[str, str]  # physical names, known at synth (no token parsing an ARN)
    bus: events.IEventBus

    def environment(self, spec: catalog.Function) -> dict[str, str]:
        """`catalog.environment` for `spec`, resources named by their physical names."""
        names = {name: table.table_name for name, table in self.tables.items()}
        names.update(self.secret_names)
        return catalog.environment(spec, names, self.bus.event_bus_name)


def policy_statements(spec: catalog.Function, resources: Resources, region: str) -> list[iam.PolicyStatement]:
    """The data-plane permissions the catalog grants `spec` (logs and X-Ray are added by the construct)."""
    statements: list[iam.PolicyStatement] = []
    for table_spec, access in spec.tables.items():
        table_arn = resources.tables[table_spec.name].table_arn
        if access.actions:
            statements.append(iam.PolicyStatement(actions=list(access.actions), resources=[table_arn]))
        indexes = access.indexes_of(table_spec)
        if indexes:
            # Each index by name (<table ARN>/index/<name>): only the indexes the function queries.
            statements.append(
                iam.PolicyStatement(
                    actions=[INDEX_QUERY], resources=[f"{table_arn}/index/{name}" for name in indexes]
                )
            )
    if spec.tables or spec.secrets:
        # The key is only usable through the services that hold data under it (kms:ViaService).
        writes = any(access.stores for access in spec.tables.values())
        services = (["dynamodb"] if spec.tables else []) + (["secretsmanager"] if spec.secrets else [])
        statements.append(
            iam.PolicyStatement(
                actions=["kms:Decrypt", *(["kms:Encrypt", "kms:GenerateDataKey"] if writes else [])],
                resources=[resources.key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in services]}
                },
            )
        )
    if spec.secrets:
        statements.append(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[resources.secrets[s.name].secret_arn for s in spec.secrets],
            )
        )
    if spec.publishes:
        # Subscribers act on `source`, so a role may put only its own. StringEquals, not ForAllValues:
        # EventBridge authorizes each entry on its one Source (a refused entry fails alone, with
        # NotAuthorizedForSourceException), and an entry without a Source fails the condition.
        statements.append(
            iam.PolicyStatement(
                actions=["events:PutEvents"],
                resources=[resources.bus.event_bus_arn],
                conditions={"StringEquals": {"events:source": spec.publishes}},
            )
        )
    if spec.invokes:
        statements.append(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[
                    f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:function:{pattern}"
                    for pattern in spec.invokes
                ],
            )
        )
    return statements


class Layers(Construct):
    """The core package as-is, and the pinned third-party dependencies bundled for arm64."""

    def __init__(self, scope: Construct, id_: str, *, config: StageConfig) -> None:
        super().__init__(scope, id_)
        core_root = config.path(config.core_layer_root)
        if not (core_root / "python" / "payments").is_dir():
            raise FileNotFoundError(f"core layer: {core_root}/python/payments is missing")
        self.core = lambda_.LayerVersion(
            self,
            "Core",
            code=lambda_.Code.from_asset(str(core_root), exclude=ASSET_EXCLUDES),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="payments core package (domain, use cases, adapters)",
        )
        self.deps = lambda_.LayerVersion(
            self,
            "Deps",
            code=deps_layer_code(config.path(config.deps_layer_root), REPO_ROOT / "uv.lock"),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="pinned third-party runtime dependencies (layers/deps/requirements.txt)",
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.deps, self.core]


class PaymentFunction(Construct):
    """One catalog function: code asset, log group, role, settings, and SnapStart where asked."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        spec: catalog.Function,
        config: StageConfig,
        resources: Resources,
        layers: Sequence[lambda_.ILayerVersion],
    ) -> None:
        super().__init__(scope, id_)
        self.spec = spec
        code_dir = config.path(config.functions_root) / spec.name
        if not (code_dir / "app.py").is_file():
            raise FileNotFoundError(
                f"function {spec.name!r} is in infra/catalog.py but {code_dir}/app.py is missing"
            )
        function_name = naming.function_name(config.stage, spec.name)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=config.log_retention,
            removal_policy=removal,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function_name}: only what infra/catalog.py grants it",
        )
        for statement in policy_statements(spec, resources, Stack.of(self).region):
            self.role.add_to_policy(statement)
        self.log_group.grant_write(self.role)

        environment = {
            "STAGE": config.stage,
            "POWERTOOLS_SERVICE_NAME": catalog.SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": catalog.METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": config.log_level,
            # Responses carry client secrets and card details: keep them out of X-Ray metadata.
            "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            **resources.environment(spec),
        }
        if catalog.ORDER_TOKEN_ISSUER_ENV in environment:
            environment[catalog.ORDER_TOKEN_ISSUER_ENV] = config.order_token_issuer  # the stage's
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(code_dir), exclude=ASSET_EXCLUDES),
            layers=list(layers),
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            role=self.role,
            environment=environment,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if spec.snapstart else None,
        )
        self.alias: lambda_.Alias | None = None
        if spec.snapstart:
            # SnapStart applies to published versions only: callers go through the `live` alias, which
            # each deploy moves to a new version (published whenever code or configuration changes).
            self.alias = lambda_.Alias(self, "Live", alias_name="live", version=self.function.current_version)
            acknowledge(
                self.function,
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                "Versions are published (current_version) and invoked through the `live` alias.",
                plugin="Annotation",
            )

        for pattern in spec.invokes:
            acknowledge(
                self.role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:{pattern}]",
                "lambda:InvokeFunction on the functions the catalog names by pattern (the risk hook ops "
                "deploy as risk-hook-<name>): its name is data, set without a deploy.",
            )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "xray:PutTraceSegments/PutTelemetryRecords (added by active tracing) have no resource-level "
            "permissions; X-Ray only accepts Resource '*'.",
        )

    @property
    def target(self) -> lambda_.IFunction:
        """What API Gateway and EventBridge invoke: the alias when SnapStart is on."""
        return self.alias or self.function


class Functions(Construct):
    """Every function of the catalog, in catalog order."""

    def __init__(self, scope: Construct, id_: str, *, config: StageConfig, resources: Resources) -> None:
        super().__init__(scope, id_)
        self.layers = Layers(self, "Layers", config=config)
        self.by_name: dict[str, PaymentFunction] = {
            spec.name: PaymentFunction(
                self,
                construct_id(spec.name),
                spec=spec,
                config=config,
                resources=resources,
                layers=self.layers.all,
            )
            for spec in catalog.FUNCTIONS
        }
