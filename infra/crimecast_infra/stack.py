"""The crimecast stack: storage, functions, HTTPS API, analytics, alarms, outputs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from crimecast_infra import storage as P
from crimecast_infra.analytics import Analytics
from crimecast_infra.api import HttpsApi
from crimecast_infra.config import DeployConfig
from crimecast_infra.functions import Functions
from crimecast_infra.loop import DailyLoop
from crimecast_infra.monitoring import Alarms
from crimecast_infra.nag import acknowledge_findings
from crimecast_infra.storage import Storage


class CrimecastStack(Stack):
    """Attributes: `config`, `storage`, `functions`, `api`, `analytics`, `alarms`."""

    def __init__(self, scope: Construct, cid: str, **kwargs: object) -> None:
        super().__init__(scope, cid, **kwargs)
        self.config = DeployConfig.from_context(self)
        self.storage = Storage(self, "Storage", config=self.config)
        self.functions = Functions(self, "Functions", config=self.config, store=self.storage)
        self.api = HttpsApi(self, "Api", config=self.config, handler=self.functions.api)
        self.analytics = Analytics(self, "Analytics", results=self.storage.results)
        self.alarms = Alarms(self, "Alarms", config=self.config, dlq=self.functions.dlq,
                             functions={"Api": self.functions.api, "ClassifyUpload": self.functions.classify,
                                        "ForecastJob": self.functions.forecast},
                             forecast=self.functions.forecast)
        self.loop = DailyLoop(self, "Loop", config=self.config, store=self.storage, functions=self.functions,
                              database_name=self.analytics.database_name, topic=self.alarms.topic)
        for table in self.loop.tables.values():
            table.node.add_dependency(self.analytics.node.find_child("Database"))
        acknowledge_findings(self)

        s = self.storage
        outputs = {
            "ApiUrl": (self.api.url, "HTTPS API base URL (IAM-signed or JWT, see README)"),
            "UploadsBucket": (s.uploads.bucket_name, f"PUT images/videos under {P.INCOMING} to classify them"),
            "DataBucket": (s.data.bucket_name, f"input tables under {P.DATA}, models under {P.MODELS}"),
            "ResultsBucket": (s.results.bucket_name, f"{P.RESULTS}, {P.FORECASTS}, runs/ manifests, {P.ATHENA}"),
            "ReportsBucket": (s.reports.bucket_name, "HTML reports"),
            "ReportUrlPrefix": (f"s3://{s.reports.bucket_name}/{P.REPORTS}", "reports/<date>/ and reports/latest/"),
            "LatestReport": (f"s3://{s.reports.bucket_name}/{P.REPORTS}latest/index.html",
                             "aws s3 presign this URI to open it in a browser"),
            "AthenaWorkGroup": (self.analytics.workgroup.ref, "Athena workgroup (results in the results bucket)"),
            "ForecastsTable": (f"{self.analytics.database_name}.{self.analytics.forecasts_table}",
                               "Athena table over forecasts/ (partition projection on run_date)"),
            "ClassificationsTable": (f"{self.analytics.database_name}.{self.analytics.classifications_table}",
                                     "Athena table over results/rows/ (partition projection on date)"),
            "FailedInvocationsQueue": (self.functions.dlq.queue_url, "DLQ of the classifier and the forecast job"),
            "ForecastJobFunction": (self.functions.forecast.function_name, "invoke by hand with {\"run_date\": ...}"),
            "AlarmTopic": (self.alarms.topic.topic_arn, "subscribe to alarm notifications"),
            "FeedFunction": (self.loop.feed.function_name, "ingests exports PUT under feeds/incoming/ (data bucket)"),
            "RetrainFunction": (self.loop.retrain.function_name, "invoke by hand to retrain (promotion gate)"),
        }
        for oid, (value, desc) in outputs.items():
            CfnOutput(self, oid, value=value, description=desc)
