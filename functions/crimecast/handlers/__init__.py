"""Lambda entry points (`handler` in each module) and their shared observability set-up.

Powertools gives JSON logs with correlation ids and CloudWatch EMF metrics. It is imported here once;
if it is missing (a trimmed layer) the handlers still run with stdlib logging and no metrics.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from crimecast import env_names

SERVICE = os.environ.get(env_names.POWERTOOLS_SERVICE_NAME, "crimecast")
NAMESPACE = os.environ.get(env_names.POWERTOOLS_METRICS_NAMESPACE, "crimecast")

try:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.metrics import MetricUnit

    HAVE_POWERTOOLS = True
except ImportError:  # pragma: no cover - exercised only without the dependency
    HAVE_POWERTOOLS = False


class _NoMetrics:
    def add_metric(self, name: str, unit: Any, value: float) -> None:
        pass

    def log_metrics(self, fn: Callable[..., Any] | None = None, **_: Any) -> Any:
        return fn if fn is not None else (lambda f: f)


class _Units:
    Count = "Count"
    Milliseconds = "Milliseconds"
    Seconds = "Seconds"


def make_logger(name: str) -> Any:
    if HAVE_POWERTOOLS:
        return Logger(service=SERVICE, child=False, **{"function": name})
    log = logging.getLogger(f"crimecast.{name}")
    log.inject_lambda_context = lambda fn=None, **_: fn if fn is not None else (lambda f: f)  # type: ignore
    return log


def make_metrics() -> Any:
    return Metrics(namespace=NAMESPACE, service=SERVICE) if HAVE_POWERTOOLS else _NoMetrics()


Units: Any = MetricUnit if HAVE_POWERTOOLS else _Units
CORRELATION_HTTP: str | None = correlation_paths.API_GATEWAY_HTTP if HAVE_POWERTOOLS else None
CORRELATION_EVENTBRIDGE: str | None = correlation_paths.EVENT_BRIDGE if HAVE_POWERTOOLS else None
