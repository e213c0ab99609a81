"""The local Lambda API the operator tools invoke functions through (infra/local/lambda_api.py): Lambda's
answers for a result, a handler's error, an unknown function, and a function's configuration."""

from __future__ import annotations

import json
from typing import Any

from infra import catalog
from infra.local.lambda_api import LocalLambdaApi
from infra.local.runtime import Invocation, InvocationError

INVOKE = "/_local/lambda/2015-03-31/functions/{}/invocations"


class Workers:
    def __init__(self, failure: InvocationError | None = None) -> None:
        self.failure = failure
        self.calls: list[tuple[str, Any, float]] = []

    def available(self, function: str) -> bool:
        return function != "janitor"  # as if its code were not written yet

    def invoke(
        self, function: str, event: dict[str, Any], *, timeout_s: float, request_id: str
    ) -> Invocation:
        self.calls.append((function, event, timeout_s))
        if self.failure:
            raise self.failure
        return Invocation(function, request_id, {"ok": True}, 1.0, None)


def environment(fn: catalog.Function) -> dict[str, str]:
    return {
        "PATH": "/bin",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5050",
        "STAGE": "local",
        "LEDGER_TABLE": "ledger",
    }


def test_an_invocation_by_arn_answers_the_handlers_result() -> None:
    workers = Workers()
    api = LocalLambdaApi(workers, environment)
    arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aaccounting%3A%24LATEST"

    answer = api.answer("POST", INVOKE.format(arn), {}, b'{"id": "e-1"}')

    assert (answer.status, json.loads(answer.body)) == (200, {"ok": True})
    assert ("X-Amz-Function-Error", "Unhandled") not in answer.headers
    assert workers.calls == [("accounting", {"id": "e-1"}, catalog.function("accounting").timeout_s)]


def test_a_handler_that_raised_answers_lambdas_function_error() -> None:
    api = LocalLambdaApi(
        Workers(InvocationError("error", "payment pay_1 is not known", "NotFound")), environment
    )

    answer = api.answer("POST", INVOKE.format("refunds"), {}, b"{}")

    assert answer.status == 200
    assert ("X-Amz-Function-Error", "Unhandled") in answer.headers
    assert json.loads(answer.body)["errorType"] == "NotFound"
    assert json.loads(answer.body)["errorMessage"] == "payment pay_1 is not known"


def test_an_unknown_function_is_lambdas_404() -> None:
    api = LocalLambdaApi(Workers(), environment)

    for name in ("nope", "janitor"):
        answer = api.answer("POST", INVOKE.format(name), {}, b"{}")
        assert answer.status == 404
        assert ("x-amzn-ErrorType", "ResourceNotFoundException") in answer.headers


def test_only_synchronous_and_dry_run_invocations_are_served() -> None:
    workers = Workers()
    api = LocalLambdaApi(workers, environment)

    assert (
        api.answer("POST", INVOKE.format("refunds"), {"X-Amz-Invocation-Type": "DryRun"}, b"{}").status == 204
    )
    assert (
        api.answer("POST", INVOKE.format("refunds"), {"X-Amz-Invocation-Type": "Event"}, b"{}").status == 400
    )
    assert workers.calls == []


def test_the_configuration_is_what_cdk_sets_without_the_local_runtimes_variables() -> None:
    api = LocalLambdaApi(Workers(), environment)

    answer = api.answer("GET", "/_local/lambda/2015-03-31/functions/accounting/configuration", {}, b"")

    configuration = json.loads(answer.body)
    assert configuration["FunctionName"] == "accounting"
    assert configuration["Environment"]["Variables"] == {"STAGE": "local", "LEDGER_TABLE": "ledger"}
