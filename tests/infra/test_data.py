"""Tables as the catalog defines them, encrypted, recoverable, and protected in prod."""

from __future__ import annotations

import pytest

from infra import catalog
from infra.aws.naming import construct_id
from tests.infra.stacks import Stage, Synth, ref

TABLES = pytest.mark.parametrize("spec", catalog.TABLES, ids=lambda t: t.name)


def key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    return [{"AttributeName": partition, "KeyType": "HASH"}] + (
        [{"AttributeName": sort, "KeyType": "RANGE"}] if sort else []
    )


@TABLES
def test_table_matches_the_catalog(stage: Stage, spec: catalog.Table) -> None:
    props = stage.at(f"Tables/{construct_id(spec.name)}/Resource")[1]["Properties"]
    assert props["KeySchema"] == key_schema(spec.partition_key, spec.sort_key)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {i.name for i in spec.indexes}
    for index in spec.indexes:
        assert indexes[index.name]["KeySchema"] == key_schema(index.partition_key, index.sort_key)
        assert indexes[index.name]["Projection"] == {"ProjectionType": index.projection}
    assert all(a["AttributeType"] == "S" for a in props["AttributeDefinitions"])
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props


@TABLES
def test_table_has_pitr_and_the_customer_managed_key(stage: Stage, spec: catalog.Table) -> None:
    props = stage.at(f"Tables/{construct_id(spec.name)}/Resource")[1]["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert (
        ref(props["SSESpecification"]["KMSMasterKeyId"]) == f"{stage.logical_id('Security/Key/Resource')}.Arn"
    )


def test_key_rotates(stage: Stage) -> None:
    assert stage.at("Security/Key/Resource")[1]["Properties"]["EnableKeyRotation"] is True


def test_prod_keeps_its_data_and_dev_cleans_up(synth: Synth) -> None:
    kept_types = (
        "AWS::DynamoDB::Table",
        "AWS::KMS::Key",
        "AWS::SecretsManager::Secret",
        "AWS::Cognito::UserPool",
        "AWS::Logs::LogGroup",
    )
    for stage, policy in ((synth.prod, "Retain"), (synth.dev, "Delete")):
        for type_ in kept_types:
            for logical_id, resource in stage.of_type(type_).items():
                assert resource.get("DeletionPolicy") == policy, (stage.name, logical_id)
                assert resource.get("UpdateReplacePolicy") == policy, (stage.name, logical_id)
    for table in synth.prod.of_type("AWS::DynamoDB::Table").values():
        assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert synth.prod.at("Api/UserPool/Resource")[1]["Properties"]["DeletionProtection"] == "ACTIVE"
    for table in synth.dev.of_type("AWS::DynamoDB::Table").values():
        assert table["Properties"].get("DeletionProtectionEnabled") in (None, False)
