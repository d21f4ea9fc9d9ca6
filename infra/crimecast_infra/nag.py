"""cdk-nag AwsSolutions acknowledgements, each with the reason a reviewer needs.

cdk-nag 3 acknowledges one finding id at a time (`Rule[Finding]`), so every wildcard is listed
explicitly: a new wildcard someone adds later fails `cdk synth` until it is reviewed here.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import Construct

RULESET = "AwsSolutions::"


def _ack(scope: Construct, rule: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=RULESET + rule, reason=reason))


def _logical_id(construct: Construct) -> str:
    stack = Stack.of(construct)
    return str(stack.resolve(stack.get_logical_id(construct.node.default_child)))  # type: ignore[arg-type]


def acknowledge_findings(stack: Stack) -> None:
    """Acknowledge the findings this design accepts; anything else stays an error."""
    fns = stack.functions  # type: ignore[attr-defined]
    for role, bucket, prefix in fns.grants:
        _ack(role, f"AwsSolutions-IAM5[Resource::<{_logical_id(bucket)}.Arn>/{prefix}*]",
             f"Object-level access limited to the '{prefix}' prefix of one bucket: object keys below it are "
             "created at run time (dates, upload ids, model versions), so they cannot be listed in the policy. "
             "ListBucket is separately restricted to the same prefix with an s3:prefix condition.")
    if stack.config.api_packaging == "zip":  # type: ignore[attr-defined]
        _ack(fns.api, "AwsSolutions-L1",
             "Pinned to python3.12 on purpose: the layer is built for the cp312 ABI on Amazon Linux 2023 "
             "(manylinux_2_27/2_28 wheels of ai-edge-litert and numpy, layers/build.py) and tested with that "
             "interpreter; moving runtime means rebuilding and re-measuring the layer, done as its own change.")
    _ack(fns.dlq, "AwsSolutions-SQS3",
         "This queue IS the dead-letter destination (Lambda on-failure destination and EventBridge target "
         "DLQ); a DLQ of a DLQ would only move the same messages again.")
    handler = stack.node.try_find_child("BucketNotificationsHandler050a0587b7544547bf325f094a3db834")
    if handler is not None:
        _ack(handler, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                      "AWSLambdaBasicExecutionRole]",
             "CDK's own BucketNotificationsHandler (a deploy-time custom resource that only calls "
             "PutBucketNotificationConfiguration); its role is created by aws-cdk-lib and only writes its logs.")
