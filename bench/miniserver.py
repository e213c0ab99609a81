"""A minimal stand-in for the local stack, used only when `make dev`'s runner cannot be started:
`python -m bench.miniserver` prints `{"url": ...}` and serves until stdin closes.

The local stack's loopback server (infra/local/loopback.py) turns each request into an API Gateway REST
event for the catalog's route and calls the handler in this process; AWS is moto's threaded server
(AWS_ENDPOINT_URL), Stripe the emulator, both in this process. No authorizer: every request carries the
same customer's claims.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

from bench.common import (
    CUSTOMER,
    HOST,
    STRIPE_KEY,
    WEBHOOK_SECRET,
    child_environment,
    lambda_like,
    rules_letting_payments_through,
)
from bench.probe import Context
from infra import catalog
from infra.local.apigw import build_rest_event, catalog_routes, cognito_claims, resolve
from infra.local.loopback import LoopbackHandler, LoopbackServer

STAGE = f"/{catalog.API_STAGE}"


class Handler(LoopbackHandler):
    protocol_version = "HTTP/1.1"
    routes = catalog_routes()

    def serve(self) -> None:
        length = self.declared_length()
        body = self.rfile.read(length) if length else None
        path, _, query = self.path.partition("?")
        path = path[len(STAGE) :] if path.startswith(STAGE) else path
        match = resolve(self.routes, self.command, path)
        if match is not None:
            fn = match.route.fn
            headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
            event = build_rest_event(
                self.command,
                match.route.template,
                path,
                headers=headers,
                query=query,
                body=body,
                claims=cognito_claims(CUSTOMER),
                path_parameters=match.parameters,
            )
            handler = importlib.import_module(f"functions.{fn.name}.app").handler
            result = handler(event, Context(fn.name, fn.memory_mb))
            self._send(int(result["statusCode"]), (result.get("body") or "").encode())
            return
        self._send(404, b'{"code":"not_found"}')

    def _send(self, status: int, data: bytes) -> None:
        self.send(status, [("Content-Type", "application/json")], data)


def _let_payments_through() -> None:
    """Store rules the load's payments (one customer, one address) never reach, as an admin would
    (every request of this server is the customer's)."""
    import uuid

    fn = catalog.function("risk_put_rules")
    assert fn.route is not None
    event = build_rest_event(
        "PUT",
        fn.route.path,
        fn.route.path,
        headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
        body=json.dumps(rules_letting_payments_through()),
        claims=cognito_claims("bench-admin", admin=True),
    )
    result = importlib.import_module(f"functions.{fn.name}.app").handler(
        event, Context(fn.name, fn.memory_mb)
    )
    if result["statusCode"] != 200:
        raise RuntimeError(f"storing the risk rules answered {result['statusCode']}: {result.get('body')}")


def main() -> int:
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    from infra.local import resources
    from infra.local.moto_patches import like_dynamodb
    from infra.local.stripe_emulator import StripeEmulator

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    like_dynamodb()  # as the local stack's moto server
    moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    emulator = StripeEmulator(host=HOST, port=0).start()
    os.environ.update(child_environment(lambda_like("bench-miniserver", 1024, tracing=False)))
    os.environ.update({"AWS_ENDPOINT_URL": f"http://{host}:{port}", "STRIPE_API_BASE": emulator.url})
    for fn in catalog.FUNCTIONS:
        os.environ.update(resources.function_environment(fn))
    resources.create_tables(boto3.client("dynamodb"))
    resources.create_bus(boto3.client("events"))
    resources.create_secrets(
        boto3.client("secretsmanager"), stripe_api_key=STRIPE_KEY, webhook_secret=WEBHOOK_SECRET
    )
    _let_payments_through()
    server = LoopbackServer(HOST, 0, Handler).start()
    print(json.dumps({"url": f"{server.url}{STAGE}"}), flush=True)
    sys.stdin.read()  # the harness closes stdin to stop us
    server.stop()
    emulator.stop()
    moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
