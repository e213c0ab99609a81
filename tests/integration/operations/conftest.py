"""The operator tools on moto in-process: the local stack's names on the mocked AWS, and Lambda's Invoke
API answered by the function's real handler in this process (moto's Lambda would need Docker)."""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from tests.support.lambda_context import FakeLambdaContext
from tools.operations.deployment import Deployment, local, resource_name


@pytest.fixture
def deployment(aws: dict[str, Any]) -> Deployment:
    """The local stack's names, on the mocked AWS of the test (moto intercepts AWS's own endpoints)."""
    return dataclasses.replace(
        local("http://127.0.0.1:9", "http://127.0.0.1:9", "http://127.0.0.1:9/v1"),
        default_endpoint=None,
        endpoints={},
    )


@pytest.fixture
def invoked(deployment: Deployment) -> list[tuple[str, dict[str, Any]]]:
    """Every synchronous Invoke the tools make, run by `functions.<name>.app.handler` here, answered as
    Lambda answers: the result, or `FunctionError: Unhandled` with the error as its payload."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(params: dict[str, Any], **_: Any) -> Any:
        reference = unquote(params["url_path"].split("/functions/", 1)[1].split("/", 1)[0])
        name, event = resource_name(reference), json.loads(params["body"])
        calls.append((name, event))
        parsed: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        try:
            result = importlib.import_module(f"functions.{name}.app").handler(
                event, FakeLambdaContext(function_name=name)
            )
        except Exception as error:
            result = {"errorType": type(error).__name__, "errorMessage": str(error)}
            parsed["FunctionError"] = "Unhandled"
        data = json.dumps(result).encode()
        parsed["Payload"] = StreamingBody(io.BytesIO(data), len(data))
        return AWSResponse("https://lambda.local", 200, {}, None), parsed

    deployment.session.events.register("before-call.lambda.Invoke", invoke)
    return calls
