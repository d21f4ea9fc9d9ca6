"""The three Lambda functions, their roles (prefix-scoped S3 access), logs, DLQ, trigger and schedule.

Packaging (sizes measured by layers/build.py, printed by tests/infra/test_size_budget.py):
* api: zip (`crimecast`, staged with bytecode by layers/build.py) + one layer (layers/requirements-api.txt,
  trimmed; no pandas/pyarrow/OpenCV: ≤ 100 MiB in all); inline video in POST /v1/classify is the one thing it cannot do
  (videos go through POST /v1/uploads -> S3 -> classify-upload, which has OpenCV). With
  `-c crimecast:apiPackaging=image` the API runs from the worker image instead (inline video, slower cold start).
* classify-upload and forecast-job: one container image (layers/Dockerfile over the trimmed
  layers/requirements-worker.txt install, ≈ 535 MiB: OpenCV + pyarrow + pandas + SciPy/statsmodels +
  plotly + LiteRT cannot fit a zip), each function with its own CMD.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from aws_cdk import AssetHashType, Duration, RemovalPolicy, Size
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_ecr_assets import Platform
from constructs import Construct
from crimecast import env_names as E
from crimecast.layout import CLASSIFIER, FORECASTER, model_key, result_rows_prefix

from crimecast_infra import storage as P
from crimecast_infra.config import DeployConfig
from crimecast_infra.storage import Storage

ROOT = Path(__file__).resolve().parents[2]

# What classify-upload accepts (crimecast.vision.decode IMAGE_EXTENSIONS | VIDEO_EXTENSIONS, lower and
# upper case: S3 suffix filters are case-sensitive). Anything else under incoming/ does not invoke it.
MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp",
                  ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg")

HANDLERS = {
    "api": "crimecast.handlers.api.handler",
    "classify": "crimecast.handlers.classify_upload.handler",
    "forecast": "crimecast.handlers.forecast_job.handler",
}


def layers_build_module():
    """layers/build.py as a module (paths of the built bundles; the stack never runs pip itself)."""
    spec = importlib.util.spec_from_file_location("crimecast_layers_build", ROOT / "layers" / "build.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


class BundlesMissing(FileNotFoundError):
    """The dependency bundles were not built: run `make layers` (or python layers/build.py)."""


def _allow(grants: list[tuple[iam.Role, s3.IBucket, str]], role: iam.Role, bucket: s3.IBucket, paths: list[str],
           *, read: bool = False, write: bool = False, delete: bool = False) -> None:
    """Grant object actions on `bucket/<prefix>*` for each prefix (ends in '/') and on exactly `bucket/<key>` for
    each single key (anything else, e.g. feeds/state.json); ListBucket only for those prefixes and keys.

    A single key gets no wildcard: `feeds/state.json*` would also let the role read and write
    `feeds/state.json.bak`, `feeds/state.jsonl`, ... Each prefix grant (role, bucket, prefix) is recorded in
    `grants` so crimecast_infra.nag can acknowledge exactly these object-ARN wildcards (keys under a prefix are
    dynamic: dates, upload ids, versions)."""
    for p in paths:
        if not p or p.startswith("/") or "*" in p or "?" in p:
            raise ValueError(f"S3 grant path {p!r}: expected a prefix 'a/b/' or a key 'a/b.json' (no wildcards)")
    grants.extend((role, bucket, p) for p in paths if p.endswith("/"))
    patterns = [f"{p}*" if p.endswith("/") else p for p in paths]
    actions: list[str] = []
    if read:
        actions += ["s3:GetObject", "s3:GetObjectVersion"]
    if write:
        actions += ["s3:PutObject", "s3:AbortMultipartUpload"]
    if delete:
        actions += ["s3:DeleteObject"]
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=actions, resources=[bucket.arn_for_objects(p) for p in patterns]))
    # Storage.exists() lists with Prefix=<key>: a key's condition is the key itself (StringLike without '*').
    role.add_to_principal_policy(iam.PolicyStatement(
        actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
        conditions={"StringLike": {"s3:prefix": patterns}}))


class Functions(Construct):
    """Attributes: `api`, `classify`, `forecast` (lambda functions), `dlq`, `schedule`, `log_groups`,
    `grants` [(role, bucket, prefix)]: every prefix-scoped S3 grant."""

    def __init__(self, scope: Construct, cid: str, *, config: DeployConfig, store: Storage) -> None:
        super().__init__(scope, cid)
        build = layers_build_module()
        layer_dir, image_dir = build.layer_dir("api"), build.image_dir("worker")
        self.worker_image_dir = image_dir  # crimecast_infra.loop builds the feed function from it too
        for need in (build.deps_dir("api"), build.api_code_dir(), build.deps_dir("worker"), image_dir / "Dockerfile"):
            if not need.exists():
                raise BundlesMissing(f"{need} is missing: build the Lambda bundles first with `make layers` "
                                     "(python layers/build.py)")

        # Failed async invocations (S3 trigger, schedule) land here after bounded retries.
        self.dlq = sqs.Queue(self, "FailedInvocations", retention_period=Duration.days(14),
                             encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)

        common_env = {
            E.UPLOADS_BUCKET: store.uploads.bucket_name,
            E.DATA_BUCKET: store.data.bucket_name,
            E.RESULTS_BUCKET: store.results.bucket_name,
            E.REPORTS_BUCKET: store.reports.bucket_name,
            E.MODELS_BUCKET: store.data.bucket_name,  # models/ lives in the versioned data bucket
            E.INCOMING_PREFIX: P.INCOMING,
            E.UPLOADS_PREFIX: P.UPLOAD_RECORDS,
            E.RESULTS_PREFIX: P.RESULTS,
            E.FORECASTS_PREFIX: P.FORECASTS,
            E.REPORTS_PREFIX: P.REPORTS,
            E.DATA_PREFIX: P.DATA,
            E.CLASSIFIER_MODEL_KEY: model_key(CLASSIFIER),
            E.CLASSIFIER_MODEL_VERSION: config.classifier_model_version,
            E.FORECASTER_MODEL_KEY: model_key(FORECASTER),
            E.FORECASTER_MODEL_VERSION: config.forecaster_model_version,
            E.MODEL_CACHE_DIR: "/tmp/crimecast-models",
            E.POWERTOOLS_SERVICE_NAME: "crimecast",
            E.POWERTOOLS_METRICS_NAMESPACE: "crimecast",
            E.LOG_LEVEL: "INFO",
        }
        self.common_env = dict(common_env)  # the loop's functions (crimecast_infra.loop) get the same settings
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.grants: list[tuple[iam.Role, s3.IBucket, str]] = []

        def role_and_logs(name: str) -> tuple[iam.Role, logs.LogGroup]:
            role, group = function_role_and_logs(self, name, config)
            self.log_groups[name] = group
            return role, group

        # --- API: zip + layer (default) or the worker image (-c crimecast:apiPackaging=image) ------------
        def image(handler: str) -> lambda_.DockerImageCode:
            return lambda_.DockerImageCode.from_image_asset(str(image_dir), cmd=[handler],
                                                            platform=Platform.LINUX_AMD64)

        api_role, api_logs = role_and_logs("Api")
        api_props = dict(
            role=api_role, log_group=api_logs,
            architecture=lambda_.Architecture.X86_64,
            memory_size=2048,  # CPU scales with memory: one 224x224 CNN pass per classify request
            timeout=Duration.seconds(29),  # API Gateway's integration limit is 30 s
            ephemeral_storage_size=Size.mebibytes(1024),  # model cache (+ a spooled video with the image)
            reserved_concurrent_executions=config.api_reserved_concurrency,
            environment=dict(common_env),
            description="crimecast HTTPS API (FastAPI + Mangum)",
        )
        if config.api_packaging == "image":
            self.api: lambda_.Function = lambda_.DockerImageFunction(
                self, "Api", code=image(HANDLERS["api"]), **api_props)  # type: ignore[arg-type]
        else:
            layer = lambda_.LayerVersion(
                self, "ApiDeps",
                # The build's inputs hash identifies the layer: no need to fingerprint ~240 MiB on every synth.
                code=lambda_.Code.from_asset(str(layer_dir), asset_hash_type=AssetHashType.CUSTOM,
                                             asset_hash=(layer_dir.parent / ".inputs-sha256").read_text().strip()),
                compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
                compatible_architectures=[lambda_.Architecture.X86_64],
                description="crimecast API dependencies (layers/requirements-api.txt, trimmed)",
            )
            self.api = lambda_.Function(
                self, "Api",
                runtime=lambda_.Runtime.PYTHON_3_12,
                handler=HANDLERS["api"],
                # `crimecast` staged by layers/build.py with python3.12 bytecode along the cold path (issue 16).
                code=lambda_.Code.from_asset(str(build.api_code_dir())),
                layers=[layer],
                **api_props,  # type: ignore[arg-type]
            )
        _allow(self.grants, api_role, store.data, [P.MODELS, P.DATA], read=True)
        _allow(self.grants, api_role, store.results, [P.RESULTS, P.FORECASTS, P.RUNS], read=True)
        _allow(self.grants, api_role, store.reports, [P.REPORTS], read=True)
        # Presigned PUT URLs are signed with this role: it may write incoming/ and its own upload records.
        _allow(self.grants, api_role, store.uploads, [P.INCOMING, P.UPLOAD_RECORDS], read=True, write=True)

        # --- classify-upload and forecast-job: one container image, two CMDs --------------------------
        cls_role, cls_logs = role_and_logs("Classify")
        self.classify = lambda_.DockerImageFunction(
            self, "ClassifyUpload",
            code=image(HANDLERS["classify"]),
            architecture=lambda_.Architecture.X86_64,
            role=cls_role, log_group=cls_logs,
            memory_size=3008,  # video: decode + up to N frames through the CNN
            timeout=Duration.minutes(5),
            ephemeral_storage_size=Size.mebibytes(4096),  # uploaded videos are spooled to /tmp
            reserved_concurrent_executions=config.classify_reserved_concurrency,
            retry_attempts=2, max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dlq),
            environment=dict(common_env),
            description="crimecast: classify objects dropped under incoming/",
        )
        _allow(self.grants, cls_role, store.uploads, [P.INCOMING], read=True)
        _allow(self.grants, cls_role, store.data, [P.MODELS], read=True)
        _allow(self.grants, cls_role, store.results, [P.RESULTS], read=True, write=True)
        for suffix in MEDIA_SUFFIXES:
            for variant in {suffix, suffix.upper()}:
                store.uploads.add_event_notification(
                    s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(self.classify),
                    s3.NotificationKeyFilter(prefix=P.INCOMING, suffix=variant))

        fc_role, fc_logs = role_and_logs("Forecast")
        self.forecast = lambda_.DockerImageFunction(
            self, "ForecastJob",
            code=image(HANDLERS["forecast"]),
            architecture=lambda_.Architecture.X86_64,
            role=fc_role, log_group=fc_logs,
            memory_size=4096,
            timeout=Duration.minutes(15),
            ephemeral_storage_size=Size.mebibytes(2048),
            reserved_concurrent_executions=config.forecast_reserved_concurrency,
            retry_attempts=1, max_event_age=Duration.hours(2),
            on_failure=destinations.SqsDestination(self.dlq),
            environment={**common_env, **({E.REPORT_ALLOCATION_UNITS: str(config.report_allocation_units)}
                                          if config.report_allocation_units is not None else {})},
            description="crimecast: daily forecasts, report and manifest",
        )
        _allow(self.grants, fc_role, store.data, [P.DATA, P.MODELS], read=True)
        _allow(self.grants, fc_role, store.results, [P.FORECASTS, P.RUNS], read=True, write=True, delete=True)
        _allow(self.grants, fc_role, store.reports, [P.REPORTS], read=True, write=True, delete=True)
        # Read-only: the report's "recent classification activity" section reads the classification rows.
        _allow(self.grants, fc_role, store.results, [result_rows_prefix(P.RESULTS)], read=True)
        # Read-only: the report shows thumbnails of the uploads waiting for review (rated High or uncertain), read
        # from their objects under incoming/ (crimecast.report.job_inputs.review_images); never written or deleted.
        _allow(self.grants, fc_role, store.uploads, [P.INCOMING], read=True)

        self.schedule = events.Rule(
            self, "ForecastSchedule",
            schedule=events.Schedule.expression(config.forecast_schedule),
            description="crimecast: run the forecast job (UTC)",
            targets=[targets.LambdaFunction(self.forecast, retry_attempts=2, max_event_age=Duration.hours(2),
                                            dead_letter_queue=self.dlq)],
        )


def function_role_and_logs(scope: Construct, name: str, config: DeployConfig) -> tuple[iam.Role, logs.LogGroup]:
    """A function's own role and own log group (no AWSLambdaBasicExecutionRole: it allows writing any log group)."""
    group = logs.LogGroup(scope, f"{name}Logs", retention=_retention(config.log_retention_days),
                          removal_policy=RemovalPolicy.DESTROY if config.destroy_data else RemovalPolicy.RETAIN)
    role = iam.Role(scope, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                    description=f"crimecast {name} function")
    group.grant_write(role)
    return role, group


def _retention(days: int) -> logs.RetentionDays:
    for member in logs.RetentionDays:
        if _RETENTION_VALUES.get(member.name) == days:
            return member
    raise ValueError(f"unsupported log retention {days} days")


_RETENTION_VALUES = {
    "ONE_DAY": 1, "THREE_DAYS": 3, "FIVE_DAYS": 5, "ONE_WEEK": 7, "TWO_WEEKS": 14, "ONE_MONTH": 30,
    "TWO_MONTHS": 60, "THREE_MONTHS": 90, "FOUR_MONTHS": 120, "FIVE_MONTHS": 150, "SIX_MONTHS": 180,
    "ONE_YEAR": 365, "THIRTEEN_MONTHS": 400, "EIGHTEEN_MONTHS": 545, "TWO_YEARS": 731, "THREE_YEARS": 1096,
    "FIVE_YEARS": 1827, "SIX_YEARS": 2192, "SEVEN_YEARS": 2557, "EIGHT_YEARS": 2922, "NINE_YEARS": 3288,
    "TEN_YEARS": 3653,
}
