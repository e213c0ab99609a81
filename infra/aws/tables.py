"""The catalog's DynamoDB tables: on demand, point-in-time recovery, the service's KMS key."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra import catalog
from infra.aws.config import StageConfig
from infra.aws.naming import construct_id


def _key(name: str) -> dynamodb.Attribute:
    # Every key of the payments model is a string (ids, prefixed keys, RFC 3339 timestamps).
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _optional_key(name: str | None) -> dynamodb.Attribute | None:
    return _key(name) if name else None


class Tables(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: StageConfig, key: kms.IKey) -> None:
        super().__init__(scope, id_)
        self.by_name: dict[str, dynamodb.Table] = {}
        for spec in catalog.TABLES:
            table = dynamodb.Table(
                self,
                construct_id(spec.name),
                partition_key=_key(spec.partition_key),
                sort_key=_optional_key(spec.sort_key),
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
                encryption_key=key,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                deletion_protection=config.deletion_protection,
                removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
                time_to_live_attribute=spec.ttl_attribute,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_key(index.partition_key),
                    sort_key=_optional_key(index.sort_key),
                    projection_type=dynamodb.ProjectionType(index.projection),
                )
            self.by_name[spec.name] = table
