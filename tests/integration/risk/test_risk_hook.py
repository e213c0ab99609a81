"""The external risk hook's adapter (services.risk_hook()) against a loopback server speaking Lambda's
Invoke API (POST /2015-03-31/functions/<name>/invocations), which boto3 is pointed at by its own
AWS_ENDPOINT_URL_LAMBDA setting: the real SDK, its real timeouts and retry settings, no Docker.

Each case checks the verdict or the failure the checks apply on_failure to, and how many times the
function was asked (once: the client never retries on a payment's critical path)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pytest

from infra.local.loopback import LoopbackHandler, LoopbackServer
from payments import services
from payments.domain.errors import RiskHookFailed
from payments.domain.risk import RiskReason
from payments.domain.risk_rules import ExternalHook

INVOKE_PATH = "/2015-03-31/functions/"
FACTS = {"payment_id": "pay_1", "amount": 2500, "currency": "usd", "card_bin": "424242"}

# What the stand-in answers one invocation: (status, headers, body, seconds to wait before answering).
Answer = tuple[int, dict[str, str], bytes, float]


def verdict(body: Any, delay: float = 0.0) -> Answer:
    return 200, {"X-Amz-Executed-Version": "$LATEST"}, json.dumps(body).encode(), delay


@dataclass
class LambdaStandIn:
    """The answers per function name, and every invocation received (function name, payload, headers)."""

    url: str = ""
    answers: dict[str, Callable[[dict[str, Any]], Answer]] = field(default_factory=dict)
    received: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def lambda_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaStandIn]:
    stand_in = LambdaStandIn()

    class Handler(LoopbackHandler):
        protocol_version = "HTTP/1.1"

        def serve(self) -> None:
            payload = json.loads(self.rfile.read(self.declared_length()) or b"null")
            name = unquote(self.path.removeprefix(INVOKE_PATH).split("/")[0])
            with stand_in.lock:
                stand_in.received.append((name, payload, dict(self.headers)))
            if (
                self.command != "POST"
                or not self.path.startswith(INVOKE_PATH)
                or name not in stand_in.answers
            ):
                body = {"Type": "User", "message": f"Function not found: {name}"}
                error = {"x-amzn-ErrorType": "ResourceNotFoundException", "Content-Type": "application/json"}
                self.send(404, error.items(), json.dumps(body).encode())
                return
            status, headers, body, delay = stand_in.answers[name](payload)
            time.sleep(delay)
            with contextlib.suppress(OSError):  # the client may have given up waiting
                self.send(status, {"Content-Type": "application/json", **headers}.items(), body)

    server = LoopbackServer("127.0.0.1", 0, Handler).start()
    stand_in.url = server.url
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.url)
    services.reset()
    yield stand_in
    server.stop()
    services.reset()


def assess(name: str = "risk-hook-scorer", timeout_ms: int = 1000, facts: dict[str, Any] = FACTS) -> Any:
    return services.risk_hook().assess(ExternalHook(function_name=name, timeout_ms=timeout_ms), facts)


def failure(name: str = "risk-hook-scorer", timeout_ms: int = 1000) -> RiskHookFailed:
    with pytest.raises(RiskHookFailed) as raised:
        assess(name, timeout_ms)
    assert raised.value.code == "risk_hook_failed"
    return raised.value


def test_the_function_gets_the_facts_and_its_verdict_is_the_answer(lambda_api):
    lambda_api.answers["risk-hook-scorer"] = lambda _: verdict(
        {
            "decision": "block",
            "reasons": [{"code": "device_reused", "message": "seen on 40 accounts"}],
            "score": 97,
        }
    )

    decision, reasons = assess()

    assert decision == "block"
    assert reasons == (RiskReason("external", "device_reused", "seen on 40 accounts"),)
    [(name, payload, headers)] = lambda_api.received
    assert (name, payload) == ("risk-hook-scorer", {"facts": FACTS})
    assert headers["X-Amz-Invocation-Type"] == "RequestResponse"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256")  # signed like any Lambda call


def test_an_allow_needs_no_reason_and_a_review_without_one_gets_ours(lambda_api):
    lambda_api.answers["allow"] = lambda _: verdict({"decision": "allow"})
    lambda_api.answers["review"] = lambda _: verdict({"decision": "review", "reasons": []})
    assert assess("allow") == ("allow", ())
    decision, [reason] = assess("review")
    assert (decision, reason.check, reason.code) == ("review", "external", "external_review")


def test_an_alias_or_an_arn_names_the_function(lambda_api):
    lambda_api.answers["risk-hook-scorer:live"] = lambda _: verdict({"decision": "allow"})
    assert assess("risk-hook-scorer:live").decision == "allow"


def test_no_answer_within_the_timeout_is_a_timeout_and_is_not_retried(lambda_api):
    lambda_api.answers["slow"] = lambda _: verdict({"decision": "allow"}, delay=1.0)
    lambda_api.answers["fast"] = lambda _: verdict({"decision": "allow"})
    assert assess("fast", timeout_ms=200).decision == "allow"  # the client is built (the SDK's model read)

    started = time.monotonic()
    failed = failure("slow", timeout_ms=200)
    waited = time.monotonic() - started

    assert failed.failure == "timeout"
    assert waited < 0.9  # the rule's timeout, not botocore's default 60 s (or the function's second)
    assert [name for name, _, _ in lambda_api.received] == ["fast", "slow"]


def test_a_function_error_is_an_error(lambda_api):
    raised = {"errorMessage": "boom", "errorType": "RuntimeError", "stackTrace": []}
    lambda_api.answers["broken"] = lambda _: (
        200,
        {"X-Amz-Function-Error": "Unhandled"},
        json.dumps(raised).encode(),
        0,
    )
    assert failure("broken").failure == "error"
    assert len(lambda_api.received) == 1


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(429, "TooManyRequestsException"), (500, "ServiceException"), (502, "EC2ThrottledException")],
)
def test_the_lambda_service_failing_is_an_error_and_is_not_retried(lambda_api, status, error_type):
    body = json.dumps({"Type": "Service", "message": "try later"}).encode()
    lambda_api.answers["busy"] = lambda _: (status, {"x-amzn-ErrorType": error_type}, body, 0)
    assert failure("busy").failure == "error"
    assert len(lambda_api.received) == 1


def test_a_function_that_does_not_exist_is_an_error(lambda_api):
    assert failure("nobody").failure == "error"


def test_nothing_listening_is_an_error(lambda_api, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{port}")
    services.reset()
    assert failure().failure in ("error", "timeout")


@pytest.mark.parametrize(
    "answer",
    [
        b"not json",
        b"",
        b"null",
        b'"allow"',
        b"[]",
        b"{}",
        b'{"decision": "maybe"}',
        b'{"decision": "ALLOW"}',
        b'{"decision": "block", "reasons": "fraud"}',
        b'{"decision": "block", "reasons": [{"message": "no code"}]}',
        b'{"decision": "block", "reasons": [{"code": "Not A Code"}]}',
        json.dumps({"decision": "block", "reasons": [{"code": f"r{n}"} for n in range(11)]}).encode(),
        json.dumps({"decision": "allow", "padding": "x" * 70_000}).encode(),
    ],
    ids=lambda answer: answer[:40].decode(errors="replace") or "empty",
)
def test_an_answer_that_is_not_a_verdict_is_a_bad_answer(lambda_api, answer):
    lambda_api.answers["odd"] = lambda _: (200, {}, answer, 0)
    assert failure("odd").failure == "bad_answer"


def test_it_reaches_the_endpoint_while_moto_mocks_aws(lambda_api, aws):
    """Under the integration tests' moto account, the hook still reaches its endpoint (for the checks'
    tests that run whole payments with a hook)."""
    lambda_api.answers["risk-hook-scorer"] = lambda _: verdict({"decision": "allow"})
    assert assess().decision == "allow"
