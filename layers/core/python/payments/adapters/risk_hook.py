"""The external risk hook: a Lambda function, invoked synchronously (RequestResponse) with the payment's
facts, answers a verdict.

Request payload: `{"facts": {...}}`. Answer: `{"decision": "allow" | "review" | "block", "reasons":
[{"code": "a_machine_code", "message": "for the back office"}]}` (reasons optional, at most 10; other
fields are ignored). The client waits at most the rule's timeout_ms to connect and as long again for
the answer, and asks once: botocore's retries would multiply the wait on a payment's critical path.
Anything but a verdict in time raises RiskHookFailed: `timeout`, `error` (the invocation failed, or the
function raised: Lambda's FunctionError) or `bad_answer`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from payments.adapters.aws import timed_client
from payments.application.ports import HookVerdict
from payments.domain.errors import RiskHookFailed
from payments.domain.risk import Decision, RiskReason
from payments.domain.risk_rules import ExternalHook

CHECK = "external"
MAX_ANSWER_BYTES = 64 * 1024


class _Reason(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
    message: Annotated[str, StringConstraints(max_length=500)] = ""


class _Verdict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    decision: Decision
    reasons: list[_Reason] = Field(default_factory=list, max_length=10)


class LambdaRiskHook:
    def assess(self, hook: ExternalHook, facts: Mapping[str, Any]) -> HookVerdict:
        payload = json.dumps({"facts": dict(facts)}, separators=(",", ":")).encode()
        try:
            lambda_ = timed_client("lambda", hook.timeout_ms / 1000)
            response = lambda_.invoke(
                FunctionName=hook.function_name, InvocationType="RequestResponse", Payload=payload
            )
            answer = response["Payload"].read(MAX_ANSWER_BYTES + 1)
        except (ReadTimeoutError, ConnectTimeoutError) as error:
            raise RiskHookFailed("timeout", f"no answer within {hook.timeout_ms} ms") from error
        except (ClientError, BotoCoreError) as error:
            raise RiskHookFailed("error", f"the hook could not be invoked: {type(error).__name__}") from error
        if response.get("FunctionError"):
            raise RiskHookFailed("error", f"the hook's function failed ({response['FunctionError']})")
        if len(answer) > MAX_ANSWER_BYTES:
            raise RiskHookFailed("bad_answer", f"the answer is over {MAX_ANSWER_BYTES} bytes")
        try:
            verdict = _Verdict.model_validate_json(answer)
        except ValidationError as error:
            raise RiskHookFailed("bad_answer", "the answer is not a verdict") from error
        return HookVerdict(verdict.decision, _reasons(verdict))


def _reasons(verdict: _Verdict) -> tuple[RiskReason, ...]:
    reasons = tuple(RiskReason(CHECK, r.code, r.message) for r in verdict.reasons)
    if reasons or verdict.decision == "allow":
        return reasons
    # A review or a block always says why, if only that the external service decided it.
    return (RiskReason(CHECK, f"external_{verdict.decision}", "the external risk service decided so"),)
