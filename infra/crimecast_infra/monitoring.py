"""CloudWatch alarms: function errors, failed-invocation queue depth, and a missed forecast run."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from crimecast_infra.config import DeployConfig


class Alarms(Construct):
    """Attributes: `topic` (alarm notifications), `alarms` {name: Alarm}."""

    def __init__(self, scope: Construct, cid: str, *, config: DeployConfig, functions: dict[str, lambda_.IFunction],
                 dlq: sqs.IQueue, forecast: lambda_.IFunction) -> None:
        super().__init__(scope, cid)
        # A customer key: CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.
        key = kms.Key(self, "TopicKey", enable_key_rotation=True, description="crimecast alarm topic")
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        self.topic = sns.Topic(self, "Topic", display_name="crimecast alarms", master_key=key, enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(config.alarm_email))
        action = cw_actions.SnsAction(self.topic)
        self.alarms: dict[str, cw.Alarm] = {}

        def add(name: str, alarm: cw.Alarm) -> None:
            alarm.add_alarm_action(action)
            self.alarms[name] = alarm

        for name, fn in functions.items():
            add(f"{name}Errors", fn.metric_errors(period=Duration.minutes(5), statistic="Sum").create_alarm(
                self, f"{name}Errors", threshold=1, evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                alarm_description=f"crimecast {name}: at least one invocation error in 5 minutes"))
        add("FailedInvocations", dlq.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(5), statistic="Maximum").create_alarm(
            self, "FailedInvocations", threshold=1, evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description="crimecast: an async invocation (upload or forecast run) failed after its retries"))
        # Missed run: fewer successful forecast-job invocations than one per day. No data = missed.
        succeeded = cw.MathExpression(
            expression="invocations - errors",
            using_metrics={"invocations": forecast.metric_invocations(period=Duration.days(1), statistic="Sum"),
                           "errors": forecast.metric_errors(period=Duration.days(1), statistic="Sum")},
            period=Duration.days(1), label="successful forecast runs per day")
        add("MissedForecastRun", succeeded.create_alarm(
            self, "MissedForecastRun", threshold=1, evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.BREACHING,
            alarm_description="crimecast: no successful forecast run in the last 24 h"))
