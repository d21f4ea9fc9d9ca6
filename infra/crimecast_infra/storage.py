"""S3 storage: one bucket per data lifetime, plus the access-log bucket.

Why four buckets and not one per prefix or one in all: lifetimes and access differ. `uploads` holds
untrusted, short-lived input (lifecycle-expired, the only bucket with an event trigger); `data` holds
what must not be lost and is small (input tables under data/, models under models/: versioned);
`results` holds what the functions derive (results/, forecasts/, athena/ query output: versioned, old
versions expire); `reports` holds the published HTML (reports/<date>/, reports/latest/). Prefix names
come from the settings defaults so the IAM scoping below matches what the code writes.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct
from crimecast.layout import ATHENA, DATA, FORECASTS, INCOMING, MODELS, REPORTS, RESULTS, RUNS, UPLOAD_RECORDS

from crimecast_infra.config import DeployConfig

# Key prefixes come from crimecast.layout (the defaults of crimecast.settings.Settings; the stack passes them as
# env vars); re-exported here as P.<NAME> for the rest of the stack.
__all__ = ["ATHENA", "DATA", "FORECASTS", "INCOMING", "MODELS", "REPORTS", "RESULTS", "RUNS", "UPLOAD_RECORDS",
           "Storage"]


class Storage(Construct):
    """The buckets; attributes `uploads`, `data`, `results`, `reports`, `access_logs`."""

    def __init__(self, scope: Construct, cid: str, *, config: DeployConfig) -> None:
        super().__init__(scope, cid)
        destroy = config.destroy_data
        removal = RemovalPolicy.DESTROY if destroy else RemovalPolicy.RETAIN

        def bucket(bid: str, *, versioned: bool, lifecycle: list[s3.LifecycleRule],
                   logged: bool = True, **kw: object) -> s3.Bucket:
            # Access logs of bucket "Data" go under data/ in the access-log bucket, etc.
            log_prefix = f"{bid.lower()}/" if logged else None
            return s3.Bucket(
                self, bid,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                encryption=s3.BucketEncryption.S3_MANAGED,
                enforce_ssl=True,
                minimum_tls_version=1.2,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                versioned=versioned,
                lifecycle_rules=lifecycle,
                server_access_logs_bucket=self.access_logs if log_prefix else None,
                server_access_logs_prefix=log_prefix,
                removal_policy=removal,
                auto_delete_objects=destroy,
                **kw,
            )

        abort_mpu = s3.LifecycleRule(id="abort-incomplete-uploads",
                                     abort_incomplete_multipart_upload_after=Duration.days(1))
        # Access logs: SSE-S3 is the only encryption S3 log delivery supports.
        self.access_logs = s3.Bucket(
            self, "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(365)), abort_mpu],
            removal_policy=removal,
            auto_delete_objects=destroy,
        )
        self.uploads = bucket(
            "Uploads", versioned=False,
            lifecycle=[
                s3.LifecycleRule(id="expire-incoming", prefix=INCOMING,
                                 expiration=Duration.days(config.uploads_expire_days)),
                s3.LifecycleRule(id="expire-upload-records", prefix=UPLOAD_RECORDS,
                                 expiration=Duration.days(config.uploads_expire_days)),
                abort_mpu,
            ],
            # Browsers PUT to presigned URLs; only when the API allows browser origins.
            cors=[s3.CorsRule(allowed_methods=[s3.HttpMethods.PUT], allowed_origins=list(config.cors_origins),
                              allowed_headers=["*"], max_age=3000)] if config.cors_origins else None,
        )
        self.data = bucket(
            "Data", versioned=True,
            lifecycle=[s3.LifecycleRule(id="expire-old-versions", noncurrent_version_expiration=Duration.days(365)),
                       abort_mpu],
        )
        self.results = bucket(
            "Results", versioned=True,
            lifecycle=[s3.LifecycleRule(id="expire-old-versions", noncurrent_version_expiration=Duration.days(30)),
                       s3.LifecycleRule(id="expire-athena-output", prefix=ATHENA, expiration=Duration.days(30)),
                       abort_mpu],
        )
        self.reports = bucket(
            "Reports", versioned=True,
            lifecycle=[s3.LifecycleRule(id="expire-old-versions", noncurrent_version_expiration=Duration.days(30)),
                       abort_mpu],
        )
