"""Deployment settings read from CDK context (`cdk.json` defaults, `-c crimecast:key=value` overrides)."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

PREFIX = "crimecast:"
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)


class ConfigError(ValueError):
    """A context value that cannot be used; the message names the key."""


def _get(scope: Construct, key: str, default: object) -> object:
    value = scope.node.try_get_context(PREFIX + key)
    return default if value is None else value


def _bool(scope: Construct, key: str, default: bool) -> bool:
    v = _get(scope, key, default)
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in {"true", "1", "yes"}:
        return True
    if s in {"false", "0", "no", ""}:
        return False
    raise ConfigError(f"context {PREFIX}{key}={v!r}: expected true or false")


def _int(scope: Construct, key: str, default: int | None, lo: int, hi: int) -> int | None:
    v = _get(scope, key, default)
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        n = int(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"context {PREFIX}{key}={v!r}: expected an integer") from None
    if not lo <= n <= hi:
        raise ConfigError(f"context {PREFIX}{key}={n}: expected {lo}..{hi}")
    return n


def _float(scope: Construct, key: str, default: float, lo: float, hi: float) -> float:
    v = _get(scope, key, default)
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"context {PREFIX}{key}={v!r}: expected a number") from None
    if not lo <= f <= hi:
        raise ConfigError(f"context {PREFIX}{key}={f}: expected {lo}..{hi}")
    return f


def _list(scope: Construct, key: str) -> list[str]:
    v = _get(scope, key, "")
    if isinstance(v, list):
        return [str(x).strip() for x in v if str(x).strip()]
    return [x.strip() for x in str(v).split(",") if x.strip()]


@dataclass(frozen=True)
class DeployConfig:
    """Everything the stack lets an operator choose at deploy time (see README: Deploy)."""

    destroy_data: bool = False  # dev stacks: buckets and their objects go with `cdk destroy`
    auth: str = "iam"  # "iam" (SigV4-signed requests) or "jwt" (issuer + audience)
    jwt_issuer: str = ""
    jwt_audience: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    throttle_rate: int = 20  # requests/second, steady state, whole API
    throttle_burst: int = 40
    forecast_schedule: str = "cron(0 5 * * ? *)"  # EventBridge expression, UTC
    api_reserved_concurrency: int | None = None
    classify_reserved_concurrency: int | None = None
    forecast_reserved_concurrency: int | None = None
    uploads_expire_days: int = 30
    log_retention_days: int = 90
    classifier_model_version: str = "latest"
    forecaster_model_version: str = "latest"
    alarm_email: str = ""
    nag: bool = True
    api_packaging: str = "zip"  # "zip" (layer, no OpenCV: fast cold start) or "image" (worker image: inline video)
    # forecast job: patrol units the report's allocation plan spreads over the districts (None: no plan section)
    report_allocation_units: int | None = None

    @classmethod
    def from_context(cls, scope: Construct) -> DeployConfig:
        auth = str(_get(scope, "auth", "iam")).strip().lower()
        if auth not in {"iam", "jwt"}:
            raise ConfigError(f"context {PREFIX}auth={auth!r}: expected 'iam' or 'jwt'")
        issuer = str(_get(scope, "jwtIssuer", "")).strip()
        audience = tuple(_list(scope, "jwtAudience"))
        if auth == "jwt" and not (issuer.startswith("https://") and audience):
            raise ConfigError(f"context {PREFIX}auth=jwt needs {PREFIX}jwtIssuer (an https:// URL) and "
                              f"{PREFIX}jwtAudience (comma-separated client ids); got {issuer!r}, {list(audience)}")
        schedule = str(_get(scope, "forecastSchedule", cls.forecast_schedule)).strip()
        if not (schedule.startswith("cron(") or schedule.startswith("rate(")) or not schedule.endswith(")"):
            raise ConfigError(f"context {PREFIX}forecastSchedule={schedule!r}: expected cron(...) or rate(...)")
        cors = tuple(_list(scope, "corsOrigins"))
        for origin in cors:
            if origin != "*" and not origin.startswith(("https://", "http://localhost")):
                raise ConfigError(f"context {PREFIX}corsOrigins: {origin!r} is not an https:// origin")
        packaging = str(_get(scope, "apiPackaging", "zip")).strip().lower()
        if packaging not in {"zip", "image"}:
            raise ConfigError(f"context {PREFIX}apiPackaging={packaging!r}: expected 'zip' or 'image'")
        retention = _int(scope, "logRetentionDays", 90, 1, 3653) or 90
        if retention not in LOG_RETENTION_DAYS:
            raise ConfigError(f"context {PREFIX}logRetentionDays={retention}: CloudWatch accepts {LOG_RETENTION_DAYS}")
        return cls(
            destroy_data=_bool(scope, "destroyData", False),
            auth=auth, jwt_issuer=issuer, jwt_audience=audience, cors_origins=cors,
            throttle_rate=_int(scope, "throttleRate", 20, 1, 10_000) or 20,
            throttle_burst=_int(scope, "throttleBurst", 40, 1, 5_000) or 40,
            forecast_schedule=schedule,
            api_reserved_concurrency=_int(scope, "apiReservedConcurrency", None, 1, 1000),
            classify_reserved_concurrency=_int(scope, "classifyReservedConcurrency", None, 1, 1000),
            forecast_reserved_concurrency=_int(scope, "forecastReservedConcurrency", None, 1, 10),
            uploads_expire_days=_int(scope, "uploadsExpireDays", 30, 1, 3650) or 30,
            log_retention_days=retention,
            classifier_model_version=str(_get(scope, "classifierModelVersion", "latest")),
            forecaster_model_version=str(_get(scope, "forecasterModelVersion", "latest")),
            alarm_email=str(_get(scope, "alarmEmail", "")).strip(),
            nag=_bool(scope, "nag", True),
            api_packaging=packaging,
            report_allocation_units=_int(scope, "reportAllocationUnits", None, 1, 100_000),
        )
