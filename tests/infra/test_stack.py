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


def test_functions_get_only_the_prefixes_they_need(template: dict[str, Any]) -> None:
    api = _role_of(template, _logical(template, "AWS::Lambda::Function", "FunctionsApi"))
    cls = _role_of(template, _logical(template, "AWS::Lambda::Function", "ClassifyUpload"))
    fc = _role_of(template, _logical(template, "AWS::Lambda::Function", "ForecastJob"))
    assert len({api, cls, fc}) == 3, "each function has its own role"
    b = {n: _logical(template, "AWS::S3::Bucket", f"Storage{n}") for n in ("Uploads", "Data", "Results", "Reports")}

    def writes(role: str) -> set[tuple[str, str]]:
        return {(bk, key) for a, bk, key in _object_grants(template, role) if a == "s3:PutObject"}

    def reads(role: str) -> set[tuple[str, str]]:
        return {(bk, key) for a, bk, key in _object_grants(template, role) if a == "s3:GetObject"}

    def deletes(role: str) -> set[tuple[str, str]]:
        return {(bk, key) for a, bk, key in _object_grants(template, role) if a == "s3:DeleteObject"}

    assert writes(cls) == {(b["Results"], "results/*")}
    assert reads(cls) == {(b["Uploads"], "incoming/*"), (b["Data"], "models/*"), (b["Results"], "results/*")}
    assert deletes(cls) == set()
    assert writes(fc) == {(b["Results"], "forecasts/*"), (b["Results"], "runs/*"), (b["Reports"], "reports/*")}
    assert (b["Uploads"], "incoming/*") not in reads(fc)
    assert (b["Results"], "results/rows/*") in reads(fc)  # the report's classification activity, read-only
    assert writes(api) == {(b["Uploads"], "incoming/*"), (b["Uploads"], "uploads/*")}
    assert deletes(api) == set()
    # ListBucket only with an s3:prefix condition.
    for role in (api, cls, fc):
        for st in _statements(template, role):
            if "s3:ListBucket" in _as_list(st["Action"]):
                assert st["Condition"]["StringLike"]["s3:prefix"], st


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


def test_notification_filters_cover_incoming_media_only(template: dict[str, Any]) -> None:
    (notif,) = resources(template, "Custom::S3BucketNotifications").values()
    assert notif["Properties"]["BucketName"] == {"Ref": _logical(template, "AWS::S3::Bucket", "StorageUploads")}
    configs = notif["Properties"]["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    cls_fn = _logical(template, "AWS::Lambda::Function", "ClassifyUpload")
    suffixes = set()
    for c in configs:
        assert c["Events"] == ["s3:ObjectCreated:*"]
        assert c["LambdaFunctionArn"] == {"Fn::GetAtt": [cls_fn, "Arn"]}
        rules = {r["Name"]: r["Value"] for r in c["Filter"]["Key"]["FilterRules"]}
        assert rules["prefix"] == "incoming/"
        assert not rules["prefix"].startswith(OUTPUT_PREFIXES)
        suffixes.add(rules["suffix"])
    assert {".jpg", ".JPG", ".png", ".mp4", ".MOV"} <= suffixes
    assert not any(s.endswith((".json", ".parquet", ".html")) for s in suffixes)


def test_async_invocations_retry_boundedly_then_land_in_the_dlq(template: dict[str, Any]) -> None:
    (dlq,) = resources(template, "AWS::SQS::Queue")
    configs = resources(template, "AWS::Lambda::EventInvokeConfig")
    assert len(configs) == 2
    for c in configs.values():
        p = c["Properties"]
        assert p["MaximumRetryAttempts"] <= 2
        assert p["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [dlq, "Arn"]}


def test_schedule_targets_the_forecast_job(template: dict[str, Any], dev_template: dict[str, Any]) -> None:
    (rule,) = resources(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 5 * * ? *)"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [_logical(template, "AWS::Lambda::Function", "ForecastJob"), "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2 and "DeadLetterConfig" in target
    (dev_rule,) = resources(dev_template, "AWS::Events::Rule").values()
    assert dev_rule["Properties"]["ScheduleExpression"] == "cron(30 6 * * ? *)"


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
