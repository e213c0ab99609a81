"""Lambda's Invoke and GetFunctionConfiguration, locally: the part of the Lambda API that the operator
tools (tools/operations) call with boto3, served by the local gateway under `/_local/lambda` (outside
the stage, like its health check) and run by the same warm workers as every other invocation.

    boto3.client("lambda", endpoint_url="http://127.0.0.1:3000/_local/lambda").invoke(FunctionName=...)

- `POST /2015-03-31/functions/{name}/invocations`: `RequestResponse` (the default) answers the result,
  or Lambda's error shape with `X-Amz-Function-Error: Unhandled` when the handler raised; `DryRun`
  checks the function exists (204). `{name}` may be a name or an ARN, with or without a qualifier, as
  Lambda takes it.
- `GET /2015-03-31/functions/{name}/configuration`: the function's settings and the environment CDK
  gives it (the catalog's, for the local names), without what only the local runtime needs.
- an unknown function: 404 `ResourceNotFoundException`, as Lambda answers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from infra import catalog
from infra.local.environment import ACCOUNT, REGION, base_environment
from infra.local.runtime import InvocationError

if TYPE_CHECKING:
    from infra.local.gateway import Invoker

LAMBDA_PATH = "/_local/lambda"
FUNCTIONS = "/2015-03-31/functions/"
JSON = "application/json"


@dataclass
class LambdaAnswer:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    function: str | None = None
    note: str = ""


def handles(path: str) -> bool:
    return path.startswith(LAMBDA_PATH + "/")


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class LocalLambdaApi:
    def __init__(self, invoker: Invoker, environment: Callable[[catalog.Function], dict[str, str]]) -> None:
        self._invoker = invoker
        self._environment = environment

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> LambdaAnswer:
        rest = path.removeprefix(LAMBDA_PATH)
        if not rest.startswith(FUNCTIONS):
            return _error(404, "UnknownOperationException", f"no such Lambda operation: {method} {rest}")
        reference, _, operation = unquote(rest.removeprefix(FUNCTIONS)).partition("/")
        name = _function_name(reference)
        fn = catalog.FUNCTIONS_BY_NAME.get(name)
        if fn is None or not self._invoker.available(name):
            return _error(404, "ResourceNotFoundException", f"Function not found: {function_arn(name)}")
        if (method, operation) == ("POST", "invocations"):
            invocation_type = {k.lower(): v for k, v in headers.items()}.get("x-amz-invocation-type")
            return self._invoke(fn, body, invocation_type or "RequestResponse")
        if (method, operation) == ("GET", "configuration"):
            return self._configuration(fn)
        return _error(404, "UnknownOperationException", f"no such Lambda operation: {method} {rest}")

    def _invoke(self, fn: catalog.Function, body: bytes, invocation_type: str) -> LambdaAnswer:
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "InvalidRequestContentException", "Could not parse request body into json")
        if invocation_type == "DryRun":
            return LambdaAnswer(204, function=fn.name, note="dry run")
        if invocation_type != "RequestResponse":
            # Asynchronous invocations are the dispatcher's (rules) and the timer's (schedules) locally.
            return _error(400, "InvalidParameterValueException", f"{invocation_type} is not served locally")
        request_id = str(uuid.uuid4())
        try:
            invocation = self._invoker.invoke(fn.name, event, timeout_s=fn.timeout_s, request_id=request_id)
        except InvocationError as error:
            return _function_error(fn, error, request_id)
        headers = [
            ("Content-Type", JSON),
            ("X-Amz-Executed-Version", "$LATEST"),
            ("x-amzn-RequestId", request_id),
        ]
        return LambdaAnswer(200, json.dumps(invocation.result).encode(), headers, fn.name)

    def _configuration(self, fn: catalog.Function) -> LambdaAnswer:
        runtime_only = set(base_environment())
        variables = {
            k: v
            for k, v in self._environment(fn).items()
            if k not in runtime_only and not k.startswith("AWS_")
        }
        configuration = {
            "FunctionName": fn.name,
            "FunctionArn": function_arn(fn.name),
            "Timeout": fn.timeout_s,
            "MemorySize": fn.memory_mb,
            "Description": fn.description,
            "Version": "$LATEST",
            "State": "Active",
            "Environment": {"Variables": variables},
        }
        return LambdaAnswer(200, json.dumps(configuration).encode(), [("Content-Type", JSON)], fn.name)


def _function_name(reference: str) -> str:
    """`name`, `name:qualifier`, or an ARN `arn:aws:lambda:<region>:<account>:function:name[:qualifier]`."""
    parts = reference.split(":")
    if parts[0] == "arn" and len(parts) >= 7:
        return parts[6]
    return parts[0]


def _function_error(fn: catalog.Function, error: InvocationError, request_id: str) -> LambdaAnswer:
    if error.kind == "too_large":
        return _error(413, "RequestTooLargeException", str(error))
    error_type = error.error_type or {"timeout": "Sandbox.Timedout", "init": "Runtime.Unknown"}.get(
        error.kind, "Runtime.Unknown"
    )
    payload = {"errorType": error_type, "errorMessage": str(error), "requestId": request_id, "stackTrace": []}
    headers = [
        ("Content-Type", JSON),
        ("X-Amz-Function-Error", "Unhandled"),
        ("X-Amz-Executed-Version", "$LATEST"),
        ("x-amzn-RequestId", request_id),
    ]
    return LambdaAnswer(200, json.dumps(payload).encode(), headers, fn.name, f"{error_type}: {error}")


def _error(status: int, code: str, message: str) -> LambdaAnswer:
    body = json.dumps({"Type": "User", "message": message}).encode()
    return LambdaAnswer(status, body, [("Content-Type", JSON), ("x-amzn-ErrorType", code)], note=message)
