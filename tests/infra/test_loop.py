"""The daily loop's resources in the synthesized template (cdk-nag passed in synth): feed trigger, grants,
retrain function and schedule, Glue tables, drift alarms with thresholds from context."""

from __future__ import annotations

import json

import pytest
from cdk_helpers import resources

pytestmark = pytest.mark.slow


def _fn(tpl, contains):
    hits = {k: v for k, v in resources(tpl, "AWS::Lambda::Function").items() if contains in k}
    assert len(hits) == 1, hits
    return next(iter(hits.items()))


def _role_statements(tpl, role_ref):
    out = []
    for pol in resources(tpl, "AWS::IAM::Policy").values():
        if role_ref in pol["Properties"]["Roles"]:
            out += pol["Properties"]["PolicyDocument"]["Statement"]
    return out


def test_feed_function_is_triggered_by_exports_and_scoped(template):
    fid, fn = _fn(template, "LoopFeedIngest")
    assert fn["Properties"]["ReservedConcurrentExecutions"] == 1  # one merge at a time
    notes = [n for r in resources(template, "Custom::S3BucketNotifications").values()
             for n in r["Properties"]["NotificationConfiguration"].get("LambdaFunctionConfigurations", [])]
    mine = [n for n in notes if fid in json.dumps(n["LambdaFunctionArn"])]
    prefixes = {r["Value"] for n in mine for r in n["Filter"]["Key"]["FilterRules"] if r["Name"] == "prefix"}
    assert prefixes == {"feeds/incoming/"}
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    text = json.dumps(_role_statements(template, {"Ref": role}))
    assert "incidents/*" in text and "counts/*" in text and "feeds/rejected/*" in text
    assert "models/" not in text and "data/*" not in text  # the feed cannot touch models or uploaded tables


def test_forecast_job_reads_counts_and_writes_monitoring(template):
    _, fn = _fn(template, "FunctionsForecastJob")
    assert fn["Properties"]["Environment"]["Variables"]["CRIMECAST_MAX_STALE_DAYS"] == "3"
    text = json.dumps(_role_statements(template, {"Ref": fn["Properties"]["Role"]["Fn::GetAtt"][0]}))
    assert "monitoring/*" in text and "counts/*" in text
    assert '/feeds/state.json"' in text and "feeds/state.json*" not in text  # the one key, no wildcard


def test_retrain_function_schedule_tables_and_alarms(template):
    rid, fn = _fn(template, "LoopRetrain")
    assert fn["Properties"]["MemorySize"] == 10240 and fn["Properties"]["Timeout"] == 900
    rules = [r for r in resources(template, "AWS::Events::Rule").values()
             if rid in json.dumps(r["Properties"]["Targets"])]
    assert [r["Properties"]["ScheduleExpression"] for r in rules] == ["cron(0 6 1 * ? *)"]
    names = {t["Properties"]["TableInput"]["Name"] for t in resources(template, "AWS::Glue::Table").values()}
    assert {"incidents", "counts", "monitoring"} <= names
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm")
              .values() if a["Properties"].get("MetricName", "").startswith("Monitoring")}
    assert alarms["MonitoringCoverage80"]["Threshold"] == 0.7
    assert alarms["MonitoringRelMaeMa28"]["Threshold"] == 1.1
    assert alarms["MonitoringRelMaeMa28"]["ComparisonOperator"] == "GreaterThanThreshold"
