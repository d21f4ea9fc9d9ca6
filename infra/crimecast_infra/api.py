"""HTTPS entry: API Gateway HTTP API -> the API function, authorised (IAM by default, JWT by context),
throttled at the stage, access-logged, CORS only for the origins given in context."""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from crimecast_infra.config import DeployConfig

ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "caller": "$context.identity.caller",
    "user": "$context.identity.user", "jwtSub": "$context.authorizer.claims.sub",
    "requestTime": "$context.requestTime", "method": "$context.httpMethod", "path": "$context.path",
    "status": "$context.status", "protocol": "$context.protocol", "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage", "latencyMs": "$context.responseLatency",
}


class HttpsApi(Construct):
    """Attributes: `http_api`, `stage`, `url`, `access_logs`."""

    def __init__(self, scope: Construct, cid: str, *, config: DeployConfig, handler: lambda_.IFunction) -> None:
        super().__init__(scope, cid)
        if config.auth == "jwt":
            authorizer: apigw.IHttpRouteAuthorizer = authorizers.HttpJwtAuthorizer(
                "JwtAuthorizer", config.jwt_issuer, jwt_audience=list(config.jwt_audience))
        else:
            authorizer = authorizers.HttpIamAuthorizer()
        cors = apigw.CorsPreflightOptions(
            allow_origins=list(config.cors_origins),
            allow_methods=[apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.OPTIONS],
            allow_headers=["authorization", "content-type", "x-amz-date", "x-amz-security-token",
                           "x-amz-content-sha256"],
            max_age=Duration.hours(1),
        ) if config.cors_origins else None
        self.http_api = apigw.HttpApi(
            self, "HttpApi",
            description="crimecast API",
            cors_preflight=cors,
            create_default_stage=False,
            default_authorizer=authorizer,
        )
        # One proxy route (+ the root): FastAPI routes inside; every route carries the authoriser.
        integration = integrations.HttpLambdaIntegration("ApiIntegration", handler)
        for path in ("/", "/{proxy+}"):
            self.http_api.add_routes(path=path, methods=[apigw.HttpMethod.ANY], integration=integration)
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.THREE_MONTHS,
                                         removal_policy=RemovalPolicy.DESTROY if config.destroy_data
                                         else RemovalPolicy.RETAIN)
        self.stage = self.http_api.add_stage(
            "DefaultStage", stage_name="$default", auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=config.throttle_rate, burst_limit=config.throttle_burst),
        )
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigw.CfnStage)
        cfn_stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT))
        self.url = self.stage.url
