"""A Lambda context for invoking the handlers in-process (the demo and `crimecast replay`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalContext:
    """The bits of a Lambda context the handlers' powertools decorators read."""

    function_name: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000
