"""Glue Data Catalog tables over the Parquet the functions write, and an Athena workgroup to query them.

Partition projection (no crawler, no MSCK REPAIR): Athena computes the partitions from the key layout
`forecasts/run_date=YYYY-MM-DD/part.parquet` and `results/rows/date=YYYY-MM-DD/<id>-<version>.parquet`
(crimecast.layout).
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct
from crimecast.layout import result_rows_prefix
from crimecast.tables import CLASSIFICATION_ROWS as CLASSIFICATION_ROWS_TABLE
from crimecast.tables import FORECASTS

from crimecast_infra import storage as P

# Column types of the Parquet files, from their contracts (crimecast.tables). The `run_date` / `date` partition keys
# are not columns of the table: Glue forbids a partition key that is also a column, and Athena fills it from the path.
FORECAST_COLUMNS = FORECASTS.glue_columns()
CLASSIFICATION_COLUMNS = CLASSIFICATION_ROWS_TABLE.glue_columns()
CLASSIFICATION_ROWS = result_rows_prefix(P.RESULTS)


def _parquet_table(scope: Construct, cid: str, *, database: glue.CfnDatabase, name: str, bucket: s3.IBucket,
                   prefix: str, columns: list[tuple[str, str]], partition: str, description: str) -> glue.CfnTable:
    location = f"s3://{bucket.bucket_name}/{prefix}"
    table = glue.CfnTable(
        scope, cid,
        catalog_id=Aws.ACCOUNT_ID,
        database_name=database.ref,
        table_input=glue.CfnTable.TableInputProperty(
            name=name,
            description=description,
            table_type="EXTERNAL_TABLE",
            partition_keys=[glue.CfnTable.ColumnProperty(name=partition, type="string")],
            parameters={
                "classification": "parquet",
                "EXTERNAL": "TRUE",
                "projection.enabled": "true",
                f"projection.{partition}.type": "date",
                f"projection.{partition}.format": "yyyy-MM-dd",
                f"projection.{partition}.range": "2020-01-01,NOW",
                f"projection.{partition}.interval": "1",
                f"projection.{partition}.interval.unit": "DAYS",
                "storage.location.template": f"{location}{partition}=${{{partition}}}/",
            },
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                location=location,
                columns=[glue.CfnTable.ColumnProperty(name=c, type=t) for c, t in columns],
                input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                serde_info=glue.CfnTable.SerdeInfoProperty(
                    serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
            ),
        ),
    )
    table.node.add_dependency(database)
    return table


class Analytics(Construct):
    """Attributes: `database_name`, `forecasts_table`, `classifications_table`, `workgroup`."""

    def __init__(self, scope: Construct, cid: str, *, results: s3.IBucket) -> None:
        super().__init__(scope, cid)
        # Names from the stack name: two stacks (dev, prod) in one account do not collide.
        base = Stack.of(self).stack_name.lower().replace("-", "_")
        self.database_name = base
        database = glue.CfnDatabase(
            self, "Database", catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description="crimecast forecasts and classification results"))
        self.forecasts_table = "forecasts"
        self.classifications_table = "classifications"
        _parquet_table(self, "ForecastsTable", database=database, name=self.forecasts_table, bucket=results,
                       prefix=P.FORECASTS, columns=FORECAST_COLUMNS, partition="run_date",
                       description="crimecast forecast runs: one row per series x day x horizon")
        _parquet_table(self, "ClassificationsTable", database=database, name=self.classifications_table,
                       bucket=results, prefix=CLASSIFICATION_ROWS, columns=CLASSIFICATION_COLUMNS,
                       partition="date", description="crimecast classification results: one row per object")
        self.workgroup = athena.CfnWorkGroup(
            self, "WorkGroup", name=base, recursive_delete_option=True,
            description="crimecast queries (results in the results bucket)",
            state="ENABLED",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=10 * 2**30,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{results.bucket_name}/{P.ATHENA}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3")),
            ),
        )
