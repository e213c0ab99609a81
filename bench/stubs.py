"""The stand-ins the cold-start samples talk to: moto's server and the Stripe emulator, in this process.

Each sample gets a fresh state (reset, then the catalog's tables, bus and secrets created again), so every
first invocation sees the same world and a sample event's fixed Idempotency-Key is new each time.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

from bench.common import HOST, STRIPE_KEY, WEBHOOK_SECRET, fake_aws


class AwsServer:
    """moto's threaded server on 127.0.0.1 (an ephemeral port), provisioned from the catalog."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        self.url = ""
        self._clients: dict[str, Any] = {}

    def start(self) -> AwsServer:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3

            env = fake_aws()
            self._clients[service] = boto3.session.Session(
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=env["AWS_SESSION_TOKEN"],
                region_name=env["AWS_REGION"],
            ).client(service, endpoint_url=self.url)
        return self._clients[service]

    def reset(self) -> None:
        """Forget every resource and item, then create the catalog's resources again."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            response.read()
        provision(self.client)


def provision(client: Callable[[str], Any]) -> None:
    """The catalog's tables, bus and secrets (the bench's Stripe key and webhook secret), through
    `client(service)`."""
    from infra.local import resources

    resources.create_tables(client("dynamodb"))
    resources.create_bus(client("events"))
    resources.create_secrets(
        client("secretsmanager"), stripe_api_key=STRIPE_KEY, webhook_secret=WEBHOOK_SECRET
    )


def start_emulator() -> Any:
    from infra.local.stripe_emulator import StripeEmulator

    return StripeEmulator(host=HOST, port=0).start()
