"""The daily loop's infrastructure (issue 15): the feed function and its S3 trigger, the retrain function
(TensorFlow image) on a monthly schedule, Glue tables over incidents/, counts/ and monitoring/rows/, the
monitoring metrics' drift alarms, and the forecast job's extra grants (maintained counts, monitoring/).

Context keys (cdk.json defaults, `-c crimecast:<key>=...`): driftCoverage80Min (alarm when the 28-day 80 %
coverage falls below, default 0.70), driftCoverage95Min (0.85), driftRelMaeMax (alarm when the 28-day MAE ÷
the 28-day-mean baseline's rises above, default 1.10), retrainSchedule (EventBridge, default monthly),
retrainMemoryMb (default 10240), maxStaleDays (forecast job refusal, default 3).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration, IgnoreMode, Size
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk.aws_ecr_assets import Platform
from constructs import Construct
from crimecast import env_names as E
from crimecast import layout as L
from crimecast.monitoring.metrics import COVERAGE80, COVERAGE95, REL_MAE

from crimecast_infra.config import PREFIX, ConfigError, DeployConfig, _float, _get, _int
from crimecast_infra.functions import ROOT, Functions, _allow, function_role_and_logs
from crimecast_infra.storage import Storage

FEED_HANDLER = "crimecast.handlers.feed_ingest.handler"
RETRAIN_HANDLER = "crimecast_training.retrain.handler"
# S3 rejects a bucket's notification configuration whose filters overlap for one event type ("Configurations
# overlap"): '.gz' and '.csv.gz' under the same prefix overlap, so '.gz' (and '.GZ': filters are case-sensitive)
# alone covers the gzipped exports; the function reports a .gz that is not a CSV as an error record.
FEED_SUFFIXES = (".csv", ".CSV", ".gz", ".GZ")
# The retrain image's build context is the repository root, reduced to what the Dockerfile copies.
RETRAIN_CONTEXT_KEEP = ["functions/crimecast", "training/crimecast_training", "layers/retrain",
                        "layers/requirements-worker.txt"]
INCIDENT_COLUMNS = [("incident_id", "string"), ("date", "timestamp"), ("district", "string"),
                    ("category", "string"), ("lat", "double"), ("lon", "double"), ("source", "string")]
COUNT_COLUMNS = [("date", "timestamp"), ("district", "string"), ("category", "string"), ("count", "bigint")]
MONITORING_COLUMNS = [("date", "timestamp"), ("district", "string"), ("category", "string"), ("horizon", "bigint"),
                      ("y_pred", "double"), ("y_true", "double"), ("lo80", "double"), ("hi80", "double"),
                      ("lo95", "double"), ("hi95", "double"), ("in80", "boolean"), ("in95", "boolean"),
                      ("abs_err", "double"), ("y_ma28", "double"), ("y_snaive", "double"),
                      ("model_version", "string")]


@dataclass(frozen=True)
class LoopConfig:
    coverage80_min: float = 0.70
    coverage95_min: float = 0.85
    rel_mae_max: float = 1.10
    retrain_schedule: str = "cron(0 6 1 * ? *)"
    retrain_memory_mb: int = 10240
    max_stale_days: int = 3

    @classmethod
    def from_context(cls, scope: Construct) -> LoopConfig:
        sched = str(_get(scope, "retrainSchedule", cls.retrain_schedule)).strip()
        if not (sched.startswith(("cron(", "rate(")) and sched.endswith(")")):
            raise ConfigError(f"context {PREFIX}retrainSchedule={sched!r}: expected cron(...) or rate(...)")
        return cls(coverage80_min=_float(scope, "driftCoverage80Min", 0.70, 0.0, 1.0),
                   coverage95_min=_float(scope, "driftCoverage95Min", 0.85, 0.0, 1.0),
                   rel_mae_max=_float(scope, "driftRelMaeMax", 1.10, 0.1, 10.0), retrain_schedule=sched,
                   retrain_memory_mb=_int(scope, "retrainMemoryMb", 10240, 3008, 10240) or 10240,
                   max_stale_days=_int(scope, "maxStaleDays", 3, 0, 365) or 0)


def _month_table(scope: Construct, cid: str, *, database: str, name: str, bucket: s3.IBucket, prefix: str,
                 columns: list[tuple[str, str]], partition: str, fmt: str, unit: str, description: str
                 ) -> glue.CfnTable:
    location = f"s3://{bucket.bucket_name}/{prefix}"
    return glue.CfnTable(
        scope, cid, catalog_id=Aws.ACCOUNT_ID, database_name=database,
        table_input=glue.CfnTable.TableInputProperty(
            name=name, description=description, table_type="EXTERNAL_TABLE",
            partition_keys=[glue.CfnTable.ColumnProperty(name=partition, type="string")],
            parameters={"classification": "parquet", "EXTERNAL": "TRUE", "projection.enabled": "true",
                        f"projection.{partition}.type": "date", f"projection.{partition}.format": fmt,
                        f"projection.{partition}.range": ("2000-01,NOW" if unit == "MONTHS" else "2020-01-01,NOW"),
                        f"projection.{partition}.interval": "1", f"projection.{partition}.interval.unit": unit,
                        "storage.location.template": f"{location}{partition}=${{{partition}}}/"},
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                location=location, columns=[glue.CfnTable.ColumnProperty(name=c, type=t) for c, t in columns],
                input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                serde_info=glue.CfnTable.SerdeInfoProperty(
                    serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"))))


class DailyLoop(Construct):
    """Attributes: `feed`, `retrain` (functions), `retrain_schedule`, `alarms` {name: Alarm}, `tables`."""

    def __init__(self, scope: Construct, cid: str, *, config: DeployConfig, store: Storage, functions: Functions,
                 database_name: str, topic: sns.ITopic) -> None:
        super().__init__(scope, cid)
        lc = LoopConfig.from_context(self)
        self.config = lc
        fns = functions
        env = dict(fns.common_env)

        # --- feed ingest: the worker image, one export at a time (merges of one month must not interleave) ----
        feed_role, feed_logs = function_role_and_logs(self, "Feed", config)
        image_dir = fns.worker_image_dir
        self.feed = lambda_.DockerImageFunction(
            self, "FeedIngest",
            code=lambda_.DockerImageCode.from_image_asset(str(image_dir), cmd=[FEED_HANDLER],
                                                          platform=Platform.LINUX_AMD64),
            architecture=lambda_.Architecture.X86_64, role=feed_role, log_group=feed_logs,
            memory_size=3008,  # a 100 k-row export into 5 M incidents: ≈ 0.5 GB peak (docs/benchmarks.md)
            timeout=Duration.minutes(5), ephemeral_storage_size=Size.mebibytes(4096),
            reserved_concurrent_executions=1,
            retry_attempts=2, max_event_age=Duration.hours(6), on_failure=destinations.SqsDestination(fns.dlq),
            environment=env, description="crimecast: ingest incident exports dropped under feeds/incoming/")
        # feeds/state.json and config/ingest.json are single keys: granted exactly, without a wildcard.
        _allow(fns.grants, feed_role, store.data, [L.FEED_INCOMING, L.INGEST_CONFIG], read=True)
        _allow(fns.grants, feed_role, store.data, [L.FEED_REJECTED], write=True)  # error/rejected records: never read
        _allow(fns.grants, feed_role, store.data, [L.FEED_PROCESSED, L.FEED_STATE], read=True, write=True)
        _allow(fns.grants, feed_role, store.data, [L.INCIDENTS, L.COUNTS], read=True, write=True, delete=True)
        for suffix in FEED_SUFFIXES:
            store.data.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(self.feed),
                                              s3.NotificationKeyFilter(prefix=L.FEED_INCOMING, suffix=suffix))

        # --- the forecast job reads the maintained counts and writes monitoring/ ---------------------------------
        fc_role = fns.forecast.role
        assert fc_role is not None
        _allow(fns.grants, fc_role, store.data, [L.COUNTS, L.FEED_STATE], read=True)  # type: ignore[arg-type]
        _allow(fns.grants, fc_role, store.results, [L.MONITORING], read=True, write=True)  # type: ignore[arg-type]
        fns.forecast.add_environment(E.MAX_STALE_DAYS, str(lc.max_stale_days))

        # --- retrain: TensorFlow image, monthly + on demand ------------------------------------------------------
        rt_role, rt_logs = function_role_and_logs(self, "Retrain", config)
        keep = [f"!{p}" for p in RETRAIN_CONTEXT_KEEP]
        self.retrain = lambda_.DockerImageFunction(
            self, "Retrain",
            code=lambda_.DockerImageCode.from_image_asset(
                str(ROOT), file="layers/retrain/Dockerfile", cmd=[RETRAIN_HANDLER], platform=Platform.LINUX_AMD64,
                ignore_mode=IgnoreMode.DOCKER, exclude=["*", *keep, "**/__pycache__"]),
            architecture=lambda_.Architecture.X86_64, role=rt_role, log_group=rt_logs,
            memory_size=lc.retrain_memory_mb,  # Lambda's maximum CPU share (6 vCPU at 10 GB)
            timeout=Duration.minutes(15), ephemeral_storage_size=Size.mebibytes(4096),
            reserved_concurrent_executions=1,  # the promotions log is read-modify-write
            retry_attempts=0, on_failure=destinations.SqsDestination(fns.dlq),
            environment={**env, "CRIMECAST_RETRAIN_PROFILE": "full"},
            description="crimecast: retrain the forecaster; promote only if not worse than the champion")
        _allow(fns.grants, rt_role, store.data, [L.COUNTS, L.FEED_STATE], read=True)
        _allow(fns.grants, rt_role, store.data, [L.model_key(L.FORECASTER) + "/"], read=True, write=True)
        self.retrain_schedule = events.Rule(
            self, "RetrainSchedule", schedule=events.Schedule.expression(lc.retrain_schedule),
            description="crimecast: retrain the forecaster (promotion gate)",
            targets=[targets.LambdaFunction(self.retrain, retry_attempts=0, dead_letter_queue=fns.dlq)])

        # --- Glue tables (the analytics database) -----------------------------------------------------------
        self.tables = {
            "incidents": _month_table(self, "IncidentsTable", database=database_name, name="incidents",
                                      bucket=store.data, prefix=L.INCIDENTS, columns=INCIDENT_COLUMNS,
                                      partition="month", fmt="yyyy-MM", unit="MONTHS",
                                      description="crimecast feed: one row per unique incident (last version)"),
            "counts": _month_table(self, "CountsTable", database=database_name, name="counts", bucket=store.data,
                                   prefix=L.COUNTS, columns=COUNT_COLUMNS, partition="month", fmt="yyyy-MM",
                                   unit="MONTHS", description="crimecast feed: daily counts (non-zero cells)"),
            "monitoring": _month_table(self, "MonitoringTable", database=database_name, name="monitoring",
                                       bucket=store.results, prefix=L.MONITORING_ROWS, columns=MONITORING_COLUMNS,
                                       partition="run_date", fmt="yyyy-MM-dd", unit="DAYS",
                                       description="crimecast: earlier runs' forecasts vs actual counts"),
        }

        # --- drift alarms on the forecast job's monitoring metrics -------------------------------------------
        action = cw_actions.SnsAction(topic)
        self.alarms: dict[str, cw.Alarm] = {}
        for name, metric, threshold, op in (
                ("Coverage80Drift", COVERAGE80, lc.coverage80_min, cw.ComparisonOperator.LESS_THAN_THRESHOLD),
                ("Coverage95Drift", COVERAGE95, lc.coverage95_min, cw.ComparisonOperator.LESS_THAN_THRESHOLD),
                ("RelativeMaeDrift", REL_MAE, lc.rel_mae_max, cw.ComparisonOperator.GREATER_THAN_THRESHOLD)):
            m = cw.Metric(namespace="crimecast", metric_name=metric, dimensions_map={"service": "crimecast"},
                          period=Duration.days(1), statistic="Average")
            alarm = m.create_alarm(self, name, threshold=threshold, evaluation_periods=2, datapoints_to_alarm=2,
                                   comparison_operator=op, treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                                   alarm_description=f"crimecast forecasts drifted: 28-day {metric} past {threshold} "
                                                     "two days running (see the report's 'How did our forecasts "
                                                     "do?'; consider retraining)")
            alarm.add_alarm_action(action)
            self.alarms[name] = alarm
        for name, fn in (("FeedIngest", self.feed), ("Retrain", self.retrain)):
            a = fn.metric_errors(period=Duration.minutes(5), statistic="Sum").create_alarm(
                self, f"{name}Errors", threshold=1, evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                alarm_description=f"crimecast {name}: an invocation failed (error record under feeds/rejected/ "
                                  "or the promotions log)")
            a.add_alarm_action(action)
            self.alarms[f"{name}Errors"] = a
