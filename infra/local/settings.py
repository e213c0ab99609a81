"""Settings of the local stack: ports, secrets and paths, from the environment, with defaults that work.

| variable                   | default                | what                                               |
|----------------------------|------------------------|----------------------------------------------------|
| LOCAL_GATEWAY_PORT         | 3000                   | the local API gateway                              |
| MOTO_PORT                  | 5050                   | moto server (EventBridge, SQS, Secrets Manager)    |
| MOTO_DYNAMODB_PORT         | 5060                   | moto server for DynamoDB                           |
| STRIPE_EMULATOR_PORT       | 12111                  | the Stripe emulator                                |
| STRIPE_WEBHOOK_SECRET      | whsec_local_...        | what webhooks are signed with and verified against |
| STRIPE_API_KEY             | unset: the emulator    | an sk_test_ key: real Stripe test mode instead     |
| LOCAL_JWT_SECRET           | a fixed local key      | HS256 key of the local Cognito stand-in            |
| LOCAL_STATE_DIR            | .local                 | logs and the running stack's state file            |
| LOCAL_LOG_LEVEL            | INFO                   | POWERTOOLS_LOG_LEVEL of the functions              |
| LOCAL_SCHEDULE_SECONDS     | the catalog's schedule | how often scheduled functions (outbox_relay) run   |
| LOCAL_FUNCTION_CONCURRENCY | 4                      | warm workers per function at most                  |
| STRIPE_WEBHOOK_CHAOS       | unset: in order, once  | a seed (or seed=7,duplicates=0.3,max_delay_ms=200): |
|                            |                        | the emulator reorders, duplicates, delays webhooks |
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infra import catalog

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"  # everything binds to loopback only
# Local-only defaults, published on purpose: nothing real is signed with them.
DEFAULT_WEBHOOK_SECRET = "whsec_local_development_only_not_a_real_secret"  # noqa: S105
DEFAULT_JWT_SECRET = "local-development-jwt-signing-key-not-for-production"  # noqa: S105
# The local Order Service's key pair (Ed25519): `make order-token` signs with the private key, the local
# Secrets Manager holds the public one as the order token keys' "current" (infra/local/resources.py).
ORDER_TOKEN_PRIVATE_JWK: dict[str, str] = {
    "kty": "OKP",
    "crv": "Ed25519",
    "kid": "local-order-key-1",
    "x": "31zLAmC2c9kpF1h-XR9K4eTlLd9xbOcvPLK2HamDaOc",
    "d": "5ISuV9HU7U1GOrRehz5puDSYCJNnWpzfqxqJpsFfjh4",  # local only, published on purpose
}
EMULATOR_API_KEY = "sk_test_local_emulator"
TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")
STATE_FILE = "dev.json"


# The variables that move the stack's listeners (a stack for `make invoke` or the tests takes free ones).
PORT_VARIABLES = ("LOCAL_GATEWAY_PORT", "MOTO_PORT", "MOTO_DYNAMODB_PORT", "STRIPE_EMULATOR_PORT")

# Every variable above: what a stack started for `make demo` or the tests inherits from the caller.
SETTINGS_VARIABLES = (
    "LOCAL_GATEWAY_PORT",
    "MOTO_PORT",
    "MOTO_DYNAMODB_PORT",
    "STRIPE_EMULATOR_PORT",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_KEY",
    "LOCAL_JWT_SECRET",
    "LOCAL_STATE_DIR",
    "LOCAL_LOG_LEVEL",
    "LOCAL_SCHEDULE_SECONDS",
    "LOCAL_FUNCTION_CONCURRENCY",
    "STRIPE_WEBHOOK_CHAOS",
)


class ConfigError(ValueError):
    """A setting that cannot work; the message says which variable to fix."""


@dataclass(frozen=True)
class Port:
    name: str  # what listens there, for messages
    env: str  # the variable that moves it
    number: int


@dataclass(frozen=True)
class LocalSettings:
    gateway_port: int = 3000
    moto_port: int = 5050
    # DynamoDB in a moto of its own: one Python process serves its requests on one core, and under
    # load DynamoDB's half of them kept the other services' half waiting (docs/performance.md).
    moto_dynamodb_port: int = 5060
    stripe_port: int = 12111
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    stripe_api_key: str | None = None
    jwt_secret: str = DEFAULT_JWT_SECRET
    state_dir: Path = ROOT / ".local"
    log_level: str = "INFO"
    schedule_seconds: int | None = None
    function_concurrency: int = 4
    webhook_chaos: str | None = None  # the emulator's --webhook-chaos (Stripe promises no order)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocalSettings:
        env = os.environ if env is None else env
        defaults = cls()
        settings = cls(
            gateway_port=_port(env, "LOCAL_GATEWAY_PORT", defaults.gateway_port),
            moto_port=_port(env, "MOTO_PORT", defaults.moto_port),
            moto_dynamodb_port=_port(env, "MOTO_DYNAMODB_PORT", defaults.moto_dynamodb_port),
            stripe_port=_port(env, "STRIPE_EMULATOR_PORT", defaults.stripe_port),
            webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or defaults.webhook_secret,
            stripe_api_key=_stripe_key(env.get("STRIPE_API_KEY") or None),
            jwt_secret=env.get("LOCAL_JWT_SECRET") or defaults.jwt_secret,
            state_dir=Path(env.get("LOCAL_STATE_DIR") or defaults.state_dir).resolve(),
            log_level=(env.get("LOCAL_LOG_LEVEL") or defaults.log_level).upper(),
            schedule_seconds=_positive(env, "LOCAL_SCHEDULE_SECONDS", None),
            function_concurrency=_positive(env, "LOCAL_FUNCTION_CONCURRENCY", defaults.function_concurrency)
            or 1,
            webhook_chaos=_chaos(env.get("STRIPE_WEBHOOK_CHAOS") or None),
        )
        numbers = [p.number for p in settings.ports()]
        if len(set(numbers)) != len(numbers):
            raise ConfigError(
                f"the ports must differ: {', '.join(f'{p.env}={p.number}' for p in settings.ports())}"
            )
        return settings

    @property
    def uses_emulator(self) -> bool:
        return self.stripe_api_key is None

    def ports(self) -> list[Port]:
        ports = [
            Port("moto server", "MOTO_PORT", self.moto_port),
            Port("moto server for DynamoDB", "MOTO_DYNAMODB_PORT", self.moto_dynamodb_port),
            Port("local API gateway", "LOCAL_GATEWAY_PORT", self.gateway_port),
        ]
        if self.uses_emulator:
            ports.insert(1, Port("Stripe emulator", "STRIPE_EMULATOR_PORT", self.stripe_port))
        return ports

    @property
    def gateway_url(self) -> str:
        return f"http://{HOST}:{self.gateway_port}"

    @property
    def api_url(self) -> str:
        return f"{self.gateway_url}/{catalog.API_STAGE}"

    @property
    def moto_url(self) -> str:
        return f"http://{HOST}:{self.moto_port}"

    @property
    def dynamodb_url(self) -> str:
        return f"http://{HOST}:{self.moto_dynamodb_port}"

    @property
    def stripe_url(self) -> str | None:
        return f"http://{HOST}:{self.stripe_port}" if self.uses_emulator else None

    @property
    def webhook_url(self) -> str:
        return f"{self.api_url}/webhooks/stripe"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{name}={raw!r} is not a TCP port (1-65535)")
    return int(raw)


def _positive(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name}={raw!r} must be a positive integer")
    return int(raw)


def _chaos(spec: str | None) -> str | None:
    if spec is None:
        return None
    from infra.local.stripe_emulator import WebhookChaos

    try:
        WebhookChaos.parse(spec)
    except ValueError as error:
        raise ConfigError(f"STRIPE_WEBHOOK_CHAOS={spec!r}: {error}") from None
    return spec


def _stripe_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key.startswith(TEST_KEY_PREFIXES):
        # A live key on a laptop could move real money: refuse it outright.
        raise ConfigError(
            "STRIPE_API_KEY must be a test-mode key (sk_test_... or rk_test_...); live keys are refused"
        )
    return key


@dataclass
class StackState:
    """What a running `make dev` publishes for `make demo`, `make invoke`, `make token` and the tests."""

    runner_pid: int
    api_url: str
    moto_url: str  # EventBridge, SQS, Secrets Manager
    dynamodb_url: str
    stripe_url: str | None  # the emulator; None in Stripe test mode
    webhook_secret: str
    jwt_secret: str
    log_dir: str
    processes: dict[str, int] = field(default_factory=dict)  # name -> pid of the long-lived children

    @property
    def uses_emulator(self) -> bool:
        return self.stripe_url is not None

    def aws_url(self, service: str) -> str:
        """The moto server that serves `service`: DynamoDB has its own."""
        return self.dynamodb_url if service == "dynamodb" else self.moto_url

    def runner_alive(self) -> bool:
        """False for the state file of a runner that is gone (killed without cleaning up)."""
        try:
            os.kill(self.runner_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n")
        temporary.replace(path)  # readers never see half a file

    @classmethod
    def load(cls, path: Path) -> StackState | None:
        try:
            data: dict[str, Any] = json.loads(path.read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None
