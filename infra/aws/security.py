"""The service's customer-managed KMS key and its Secrets Manager secrets."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import catalog
from infra.aws.config import StageConfig
from infra.aws.nag import acknowledge
from infra.aws.naming import construct_id

# Why no secret has a rotation Lambda (cdk-nag SMG4).
_ROTATION_REASONS = {
    catalog.STRIPE_API_KEY.name: (
        "Stripe API keys are rolled in the Stripe Dashboard (no API to rotate them); ops put the new "
        "key with put-secret-value and functions pick it up within the secrets cache age."
    ),
    catalog.STRIPE_WEBHOOK_SECRETS.name: (
        "Webhook signing secrets are rolled in the Stripe Dashboard; the secret holds current and "
        "previous, so both verify during Stripe's overlap window."
    ),
    catalog.CURSOR_KEY.name: (
        "Rotating the cursor key only invalidates outstanding list cursors; it is rotated by hand "
        "(a new random value) when needed, not worth a rotation Lambda."
    ),
    catalog.ORDER_TOKEN_KEYS.name: (
        "Public keys only: the Order Service rolls its signing key; ops put its new public JWK as current "
        "and the old one as previous (both verify), then drop previous once its tokens have expired."
    ),
}


class Security(Construct):
    """One key encrypts the tables, the secrets, the event bus and its archive, and the alarm topic: it is
    the single place to audit."""

    def __init__(self, scope: Construct, construct_id_: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id_)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{config.physical_name(catalog.SERVICE_NAME)}",
            description=f"{catalog.SERVICE_NAME} ({config.stage}): tables, secrets, event bus, alarm topic",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=Duration.days(30 if config.retain_data else 7),
        )
        self.secrets: dict[str, secretsmanager.Secret] = {}
        self.secret_names = {spec.name: config.physical_name(spec.name) for spec in catalog.SECRETS}
        for spec in catalog.SECRETS:
            secret = secretsmanager.Secret(
                self,
                construct_id(spec.name),
                secret_name=self.secret_names[spec.name],
                description=spec.description,
                encryption_key=self.key,
                removal_policy=removal,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=64, exclude_punctuation=True
                )
                if spec.generated
                else None,
            )
            if not spec.generated:
                # Created empty: CloudFormation never sees the value, ops put it after the first deploy.
                cfn = secret.node.default_child
                assert isinstance(cfn, secretsmanager.CfnSecret)
                cfn.add_property_deletion_override("GenerateSecretString")
            if spec.name not in _ROTATION_REASONS:
                raise ValueError(
                    f"secret {spec.name}: say in infra/aws/security.py _ROTATION_REASONS how it is rotated "
                    "without a rotation Lambda (cdk-nag AwsSolutions-SMG4)"
                )
            acknowledge(secret, "AwsSolutions-SMG4", _ROTATION_REASONS[spec.name])
            self.secrets[spec.name] = secret
