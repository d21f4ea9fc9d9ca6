"""CloudFormation template assertions on the synthesized crimecast stack (cdk-nag already passed in synth)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdk_helpers import resources
from crimecast import env_names
from crimecast.settings import Settings

SENSITIVE_SERVICES = ("s3:", "sqs:", "glue:")
pytestmark = pytest.mark.slow  # builds the bundles (first run) and synthesizes the app (~1 min each)

OUTPUT_PREFIXES = ("results/", "forecasts/", "reports/", "runs/", "uploads/", "athena/")


def _logical(tpl: dict[str, Any], rtype: str, contains: str) -> str:
    hits = [k for k in resources(tpl, rtype) if contains in k]
    assert len(hits) == 1, f"expected one {rtype} with {contains!r} in its id, got {hits}"
    return hits[0]


def _statements(tpl: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    out = []
    for pol in resources(tpl, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in pol["Properties"]["Roles"]:
            out += pol["Properties"]["PolicyDocument"]["Statement"]
    return out


def _as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def _object_grants(tpl: dict[str, Any], role_id: str) -> set[tuple[str, str, str]]:
    """{(action, bucket logical id, key pattern)} for the role's object-level S3 permissions."""
    out = set()
    for st in _statements(tpl, role_id):
        for res in _as_list(st["Resource"]):
            if not (isinstance(res, dict) and "Fn::Join" in res):
                continue
            parts = res["Fn::Join"][1]
            bucket = parts[0]["Fn::GetAtt"][0]
            for action in _as_list(st["Action"]):
                out.add((action, bucket, parts[1].lstrip("/")))
    return out


def _role_of(tpl: dict[str, Any], fn_id: str) -> str:
    return tpl["Resources"][fn_id]["Properties"]["Role"]["Fn::GetAtt"][0]


def test_buckets_block_public_access_encrypt_and_log(template: dict[str, Any]) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 5
    log_bucket = _logical(template, "AWS::S3::Bucket", "AccessLogs")
    for bid, b in buckets.items():
        p = b["Properties"]
        assert p["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                       "IgnorePublicAcls": True, "RestrictPublicBuckets": True}, bid
        assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"], bid
        assert b["DeletionPolicy"] == "Retain", f"{bid}: data must survive `cdk destroy` by default"
        if bid != log_bucket:
            assert p["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket}, bid


def test_versioning_and_lifecycle(template: dict[str, Any]) -> None:
    data = resources(template, "AWS::S3::Bucket")[_logical(template, "AWS::S3::Bucket", "StorageData")]
    assert data["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}  # models/ and data/
    uploads = resources(template, "AWS::S3::Bucket")[_logical(template, "AWS::S3::Bucket", "StorageUploads")]
    rules = {r.get("Prefix"): r for r in uploads["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["incoming/"]["ExpirationInDays"] == 30
    assert rules["uploads/"]["ExpirationInDays"] == 30


def test_every_bucket_denies_plain_http(template: dict[str, Any]) -> None:
    buckets = set(resources(template, "AWS::S3::Bucket"))
    denied = set()
    for pol in resources(template, "AWS::S3::BucketPolicy").values():
        for st in pol["Properties"]["PolicyDocument"]["Statement"]:
            if st["Effect"] == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false":
                assert st["Action"] == "s3:*" and st["Principal"] == {"AWS": "*"}
                denied.add(pol["Properties"]["Bucket"]["Ref"])
    assert denied == buckets


def test_no_wildcard_resource_for_s3_sqs_glue(template: dict[str, Any]) -> None:
    for pid, pol in resources(template, "AWS::IAM::Policy").items():
        for st in pol["Properties"]["PolicyDocument"]["Statement"]:
            actions = _as_list(st["Action"])
            if any(a.startswith(SENSITIVE_SERVICES) for a in actions):
                assert "*" not in _as_list(st["Resource"]), f"{pid}: {actions} on Resource '*'"
                assert not any(a in ("s3:*", "sqs:*", "glue:*") for a in actions), f"{pid}: {actions}"


def _list_prefixes(tpl: dict[str, Any], role_id: str) -> set[tuple[str, str]]:
    """{(bucket logical id, s3:prefix pattern)} of the role's ListBucket statements (each must have a condition)."""
    out = set()
    for st in _statements(tpl, role_id):
        if "s3:ListBucket" not in _as_list(st["Action"]):
            continue
        patterns = st["Condition"]["StringLike"]["s3:prefix"]  # KeyError: ListBucket without a prefix condition
        assert patterns, st
        for res in _as_list(st["Resource"]):
            out |= {(res["Fn::GetAtt"][0], p) for p in _as_list(patterns)}
    return out


def test_functions_get_only_the_prefixes_they_need(template: dict[str, Any]) -> None:
    """Each function's exact object-level S3 grants: (bucket, prefix*) for key spaces, (bucket, key) for single
    keys (feeds/state.json, config/ingest.json: no wildcard, so no neighbouring key is reachable)."""
    fn = {n: _logical(template, "AWS::Lambda::Function", n)
          for n in ("FunctionsApi", "ClassifyUpload", "ForecastJob", "LoopFeedIngest", "LoopRetrain")}
    api, cls, fc, feed, rt = (_role_of(template, fn[n]) for n in fn)
    assert len({api, cls, fc, feed, rt}) == 5, "each function has its own role"
    up, data, res, rep = (_logical(template, "AWS::S3::Bucket", f"Storage{n}")
                          for n in ("Uploads", "Data", "Results", "Reports"))

    def grants(role: str, action: str) -> set[tuple[str, str]]:
        return {(bk, key) for a, bk, key in _object_grants(template, role) if a == action}

    def reads(role: str) -> set[tuple[str, str]]:
        got = grants(role, "s3:GetObject")
        assert grants(role, "s3:GetObjectVersion") == got  # versioned buckets: the same scope for versions
        return got

    def writes(role: str) -> set[tuple[str, str]]:
        got = grants(role, "s3:PutObject")
        assert grants(role, "s3:AbortMultipartUpload") == got
        return got

    def deletes(role: str) -> set[tuple[str, str]]:
        return grants(role, "s3:DeleteObject")

    # API: serves models, runs, forecasts, reports; signs presigned PUTs for incoming/ and writes upload records.
    assert reads(api) == {(data, "models/*"), (data, "data/*"), (res, "results/*"), (res, "forecasts/*"),
                          (res, "runs/*"), (rep, "reports/*"), (up, "incoming/*"), (up, "uploads/*")}
    assert writes(api) == {(up, "incoming/*"), (up, "uploads/*")}
    assert deletes(api) == set()

    # classify-upload: reads the upload and the classifier, writes one result per object version.
    assert reads(cls) == {(up, "incoming/*"), (data, "models/*"), (res, "results/*")}
    assert writes(cls) == {(res, "results/*")}
    assert deletes(cls) == set()

    # forecast job: inputs (uploaded tables, or the feed's maintained counts + state), models; writes the run,
    # the report and monitoring/; replaces its own partitions (delete), never monitoring rows or anyone's input.
    # incoming/ IS readable (read-only): the report shows thumbnails of the uploads waiting for review
    # (crimecast.report.job_inputs.review_images); results/rows/ read-only: the report's classification activity.
    assert reads(fc) == {(data, "data/*"), (data, "models/*"), (data, "counts/*"), (data, "feeds/state.json"),
                         (res, "forecasts/*"), (res, "runs/*"), (res, "results/rows/*"), (res, "monitoring/*"),
                         (rep, "reports/*"), (up, "incoming/*")}
    assert writes(fc) == {(res, "forecasts/*"), (res, "runs/*"), (res, "monitoring/*"), (rep, "reports/*")}
    assert deletes(fc) == {(res, "forecasts/*"), (res, "runs/*"), (rep, "reports/*")}
    assert not {k for _, k in writes(fc)} & {"incoming/*", "uploads/*", "counts/*", "data/*", "models/*"}

    # feed: reads the export (any version) and its config, keeps its markers and state, rewrites the month
    # partitions of incidents/ and counts/; writes rejected rows and error records, never reads them back.
    assert reads(feed) == {(data, "feeds/incoming/*"), (data, "config/ingest.json"), (data, "feeds/processed/*"),
                           (data, "feeds/state.json"), (data, "incidents/*"), (data, "counts/*")}
    assert writes(feed) == {(data, "feeds/rejected/*"), (data, "feeds/processed/*"), (data, "feeds/state.json"),
                            (data, "incidents/*"), (data, "counts/*")}
    assert deletes(feed) == {(data, "incidents/*"), (data, "counts/*")}  # a month whose rows were all deleted
    assert (data, "feeds/incoming/*") not in writes(feed) | deletes(feed)  # exports are never changed

    # retrain: trains on the maintained counts, writes only new forecaster versions and the promotions log.
    assert reads(rt) == {(data, "counts/*"), (data, "feeds/state.json"), (data, "models/forecaster/*")}
    assert writes(rt) == {(data, "models/forecaster/*")}
    assert deletes(rt) == set()

    # ListBucket only with an s3:prefix condition, and for exactly the key spaces the role may touch.
    for role in (api, cls, fc, feed, rt):
        objects = reads(role) | writes(role) | deletes(role)
        assert _list_prefixes(template, role) == objects, role


def test_functions_sized_per_job(template: dict[str, Any]) -> None:
    api = template["Resources"][_logical(template, "AWS::Lambda::Function", "FunctionsApi")]["Properties"]
    cls = template["Resources"][_logical(template, "AWS::Lambda::Function", "ClassifyUpload")]["Properties"]
    fc = template["Resources"][_logical(template, "AWS::Lambda::Function", "ForecastJob")]["Properties"]
    assert api["Runtime"] == "python3.12" and api["Handler"] == "crimecast.handlers.api.handler"
    assert len(api["Layers"]) == 1 and api["Timeout"] <= 29
    assert cls["PackageType"] == "Image" and fc["PackageType"] == "Image"
    assert cls["ImageConfig"]["Command"] == ["crimecast.handlers.classify_upload.handler"]
    assert fc["ImageConfig"]["Command"] == ["crimecast.handlers.forecast_job.handler"]
    assert fc["Timeout"] == 900 and fc["MemorySize"] >= 3008
    assert cls["EphemeralStorage"]["Size"] >= 2048
    assert "ReservedConcurrentExecutions" not in cls  # unset unless asked for (new accounts have tiny quotas)


def test_report_allocation_units_reach_only_the_forecast_job(template: dict[str, Any],
                                                             dev_template: dict[str, Any]) -> None:
    """-c crimecast:reportAllocationUnits=N sets the forecast job's env (the report's patrol plan); unset: no env."""
    name = env_names.REPORT_ALLOCATION_UNITS
    for tpl, expected in ((template, None), (dev_template, "12")):  # dev: conftest sets 12
        for fid, fn in resources(tpl, "AWS::Lambda::Function").items():
            env = fn["Properties"].get("Environment", {}).get("Variables", {})
            assert env.get(name) == (expected if "ForecastJob" in fid else None), (fid, env.get(name))
    assert Settings(**{name: "12"}).report_allocation_units == 12  # the name the job's settings read


def test_env_var_names_match_the_settings_model(template: dict[str, Any]) -> None:
    aliases = {str(f.validation_alias.choices[0]) for f in Settings.model_fields.values()  # type: ignore[union-attr]
               if f.validation_alias is not None}
    powertools = {env_names.POWERTOOLS_SERVICE_NAME, env_names.POWERTOOLS_METRICS_NAMESPACE, env_names.LOG_LEVEL}
    for fid, fn in resources(template, "AWS::Lambda::Function").items():
        env = fn["Properties"].get("Environment", {}).get("Variables")
        if "Crimecast" not in fid or env is None or "BucketNotificationsHandler" in fid:
            continue
        unknown = set(env) - aliases - powertools
        assert not unknown, f"{fid} sets {unknown}, which crimecast.settings.Settings does not read"
        assert set(env) <= set(env_names.ALL)
        # Every bucket the code reads is wired to a real bucket of this stack.
        for name in (env_names.UPLOADS_BUCKET, env_names.DATA_BUCKET, env_names.RESULTS_BUCKET,
                     env_names.REPORTS_BUCKET, env_names.MODELS_BUCKET):
            assert env[name] in [{"Ref": b} for b in resources(template, "AWS::S3::Bucket")], (fid, name)
        # And the prefixes parse the way the IAM scoping assumes.
        s = Settings(**{})  # defaults
        assert env[env_names.INCOMING_PREFIX] == s.incoming_prefix
        assert env[env_names.RESULTS_PREFIX] == s.results_prefix
        assert env[env_names.FORECASTS_PREFIX] == s.forecasts_prefix


def _notifications(tpl: dict[str, Any]) -> dict[str, list[tuple[str, str, str, list[str]]]]:
    """{bucket logical id: [(function logical id, prefix, suffix, events)]} of the stack's S3 -> Lambda triggers."""
    out: dict[str, list[tuple[str, str, str, list[str]]]] = {}
    for notif in resources(tpl, "Custom::S3BucketNotifications").values():
        bucket = notif["Properties"]["BucketName"]["Ref"]
        assert bucket not in out, f"{bucket}: one notification resource per bucket"
        conf = notif["Properties"]["NotificationConfiguration"]
        assert set(conf) == {"LambdaFunctionConfigurations"}, conf.keys()
        for c in conf["LambdaFunctionConfigurations"]:
            rules = {r["Name"]: r["Value"] for r in c["Filter"]["Key"]["FilterRules"]}
            assert set(rules) == {"prefix", "suffix"}, rules
            out.setdefault(bucket, []).append((c["LambdaFunctionArn"]["Fn::GetAtt"][0], rules["prefix"],
                                               rules["suffix"], c["Events"]))
    return out


def test_notification_filters_cover_incoming_media_only(template: dict[str, Any]) -> None:
    """Two triggers: uploads bucket incoming/<media> -> classify-upload; data bucket feeds/incoming/<csv|gz> ->
    the feed. Nothing any function writes (results, forecasts, reports, feeds/rejected ...) can invoke one."""
    from crimecast.vision.decode import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

    notes = _notifications(template)
    up, data = (_logical(template, "AWS::S3::Bucket", f"Storage{n}") for n in ("Uploads", "Data"))
    cls_fn = _logical(template, "AWS::Lambda::Function", "ClassifyUpload")
    feed_fn = _logical(template, "AWS::Lambda::Function", "LoopFeedIngest")
    assert set(notes) == {up, data}
    for bucket, configs in notes.items():
        for _, prefix, _, events in configs:
            assert events == ["s3:ObjectCreated:*"]
            assert not prefix.startswith(OUTPUT_PREFIXES)
        # S3 refuses the whole configuration (deploy fails) when two filters of one event type overlap: one prefix
        # starts the other and one suffix ends the other (e.g. '.gz' and '.csv.gz').
        for i, (_, p1, s1, e1) in enumerate(configs):
            for _, p2, s2, e2 in configs[i + 1:]:
                overlap = (p1.startswith(p2) or p2.startswith(p1)) and (s1.endswith(s2) or s2.endswith(s1))
                assert not (overlap and set(e1) & set(e2)), f"{bucket}: ({p1!r}, {s1!r}) overlaps ({p2!r}, {s2!r})"

    # Uploads: exactly what crimecast.vision.decode accepts, lower and upper case (S3 suffixes are case-sensitive).
    media = {e for ext in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS for e in (ext, ext.upper())}
    assert {fn for fn, *_ in notes[up]} == {cls_fn}
    assert {p for _, p, _, _ in notes[up]} == {"incoming/"}
    assert sorted(s for _, _, s, _ in notes[up]) == sorted(media)  # no duplicates either
    # Data bucket: the incident feed's exports only (CSV or gzipped CSV), never data/, models/ or the feed's own
    # outputs under feeds/.
    assert {fn for fn, *_ in notes[data]} == {feed_fn}
    assert {p for _, p, _, _ in notes[data]} == {"feeds/incoming/"}
    assert sorted(s for _, _, s, _ in notes[data]) == sorted([".csv", ".CSV", ".gz", ".GZ"])


def test_async_invocations_retry_boundedly_then_land_in_the_dlq(template: dict[str, Any]) -> None:
    """Every asynchronously invoked function (S3 triggers, schedules) retries boundedly, then the one DLQ."""
    (dlq,) = resources(template, "AWS::SQS::Queue")
    fn = {n: _logical(template, "AWS::Lambda::Function", n)
          for n in ("ClassifyUpload", "ForecastJob", "LoopFeedIngest", "LoopRetrain")}
    configs = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
               for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()}
    assert len(configs) == len(resources(template, "AWS::Lambda::EventInvokeConfig")), "one per function"
    # retries, max event age (s): uploads and exports are retried twice within 6 h; the daily forecast once within
    # 2 h (the next day's run supersedes it); a 15-minute retrain is not retried (run it again by hand).
    assert {f: (p["MaximumRetryAttempts"], p.get("MaximumEventAgeInSeconds")) for f, p in configs.items()} == {
        fn["ClassifyUpload"]: (2, 6 * 3600), fn["LoopFeedIngest"]: (2, 6 * 3600), fn["ForecastJob"]: (1, 2 * 3600),
        fn["LoopRetrain"]: (0, None)}
    for p in configs.values():
        assert p["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [dlq, "Arn"]}


def _schedules(tpl: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """{target function logical id: (schedule expression, target)}: one target per rule, one rule per function."""
    out = {}
    for rule in resources(tpl, "AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        fn = target["Arn"]["Fn::GetAtt"][0]
        assert fn not in out, f"{fn} has two schedules"
        out[fn] = (rule["Properties"]["ScheduleExpression"], target)
    return out


def test_schedule_targets_the_forecast_job(template: dict[str, Any], dev_template: dict[str, Any]) -> None:
    """Two schedules: the daily forecast job and the monthly retrain; both send undeliverable events to the DLQ."""
    (dlq,) = resources(template, "AWS::SQS::Queue")
    fc, rt = (_logical(template, "AWS::Lambda::Function", n) for n in ("ForecastJob", "LoopRetrain"))
    sched = _schedules(template)
    assert set(sched) == {fc, rt}
    expr, target = sched[fc]
    assert expr == "cron(0 5 * * ? *)"
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 7200}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}
    expr, target = sched[rt]
    assert expr == "cron(0 6 1 * ? *)"  # 06:00 UTC on the 1st, after that day's 05:00 forecast run
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}
    dev = _schedules(dev_template)
    dev_fc, dev_rt = (_logical(dev_template, "AWS::Lambda::Function", n) for n in ("ForecastJob", "LoopRetrain"))
    assert set(dev) == {dev_fc, dev_rt}
    assert dev[dev_fc][0] == "cron(30 6 * * ? *)" and dev[dev_rt][0] == "cron(0 6 1 * ? *)"


def test_api_routes_require_iam_by_default_and_are_throttled(template: dict[str, Any]) -> None:
    routes = resources(template, "AWS::ApiGatewayV2::Route")
    assert {r["Properties"]["RouteKey"] for r in routes.values()} == {"ANY /", "ANY /{proxy+}"}
    assert all(r["Properties"]["AuthorizationType"] == "AWS_IAM" for r in routes.values())
    (stage,) = resources(template, "AWS::ApiGatewayV2::Stage").values()
    p = stage["Properties"]
    assert p["StageName"] == "$default" and p["AutoDeploy"] is True
    assert p["DefaultRouteSettings"]["ThrottlingRateLimit"] == 20
    assert p["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 40
    assert json.loads(p["AccessLogSettings"]["Format"])["status"] == "$context.status"
    (api,) = resources(template, "AWS::ApiGatewayV2::Api").values()
    assert "CorsConfiguration" not in api["Properties"]  # no browser origins unless configured


def test_jwt_cors_and_dev_options_from_context(dev_template: dict[str, Any]) -> None:
    (auth,) = resources(dev_template, "AWS::ApiGatewayV2::Authorizer").values()
    p = auth["Properties"]
    assert p["AuthorizerType"] == "JWT"
    assert p["JwtConfiguration"] == {"Audience": ["client-a", "client-b"], "Issuer": "https://issuer.example.com/"}
    routes = resources(dev_template, "AWS::ApiGatewayV2::Route").values()
    assert all(r["Properties"]["AuthorizationType"] == "JWT" for r in routes)
    (api,) = resources(dev_template, "AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["CorsConfiguration"]["AllowOrigins"] == ["https://app.example.com"]
    assert all(b["DeletionPolicy"] == "Delete" for b in resources(dev_template, "AWS::S3::Bucket").values())
    cls = [f for k, f in resources(dev_template, "AWS::Lambda::Function").items() if "ClassifyUpload" in k][0]
    assert cls["Properties"]["ReservedConcurrentExecutions"] == 5
    api = [f for k, f in resources(dev_template, "AWS::Lambda::Function").items() if "FunctionsApi" in k][0]
    assert api["Properties"]["PackageType"] == "Image"
    assert api["Properties"]["ImageConfig"]["Command"] == ["crimecast.handlers.api.handler"]
    assert not resources(dev_template, "AWS::Lambda::LayerVersion")


def test_glue_tables_use_partition_projection(template: dict[str, Any]) -> None:
    tables = {t["Properties"]["TableInput"]["Name"]: t["Properties"]["TableInput"]
              for t in resources(template, "AWS::Glue::Table").values()}
    fc = tables["forecasts"]
    assert [k["Name"] for k in fc["PartitionKeys"]] == ["run_date"]
    assert fc["Parameters"]["projection.enabled"] == "true"
    assert fc["Parameters"]["projection.run_date.type"] == "date"
    assert fc["Parameters"]["storage.location.template"]["Fn::Join"][1][-1] == "/forecasts/run_date=${run_date}/"
    cols = [c["Name"] for c in fc["StorageDescriptor"]["Columns"]]
    assert cols == ["date", "district", "category", "horizon", "y_pred", "lo80", "hi80", "lo95", "hi95",
                    "model_version"]
    cl = tables["classifications"]
    assert [k["Name"] for k in cl["PartitionKeys"]] == ["date"]
    from crimecast.jobs.classify_upload import ROW_COLUMNS
    assert [c["Name"] for c in cl["StorageDescriptor"]["Columns"]] == list(ROW_COLUMNS)
    (wg,) = resources(template, "AWS::Athena::WorkGroup").values()
    assert wg["Properties"]["WorkGroupConfiguration"]["EnforceWorkGroupConfiguration"] is True


def test_alarms_and_outputs(template: dict[str, Any]) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    names = " ".join(alarms)
    for what in ("ApiErrors", "ClassifyUploadErrors", "ForecastJobErrors", "FailedInvocations", "MissedForecastRun"):
        assert what in names
    missed = [a for k, a in alarms.items() if "MissedForecastRun" in k][0]["Properties"]
    assert missed["TreatMissingData"] == "breaching" and missed["ComparisonOperator"] == "LessThanThreshold"
    assert all(a["Properties"]["AlarmActions"] for a in alarms.values())
    outputs = set(template["Outputs"])
    assert {"ApiUrl", "UploadsBucket", "DataBucket", "ResultsBucket", "ReportsBucket", "ReportUrlPrefix",
            "ForecastsTable", "ClassificationsTable", "AthenaWorkGroup"} <= outputs
