"""Lambda's context object, as far as handlers and Powertools read it (local workers and tests)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    function_name: str = "local-function"
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 29.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        """What Powertools idempotency uses to expire an in-progress record with the invocation."""
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))
