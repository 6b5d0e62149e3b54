"""An encrypted SNS topic per recorded region that AWS Config publishes its notifications to
(configuration changes, delivery failures). Optional; an environment turns it on."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from configtrail.stack import documents
from configtrail.stack.base import Account, child, json_policy


@dataclass(frozen=True)
class NotificationTopicArgs:
    topic_name: str
    region: str
    account: Account
    kms_key_arn: pulumi.Input[str]


class NotificationTopic(pulumi.ComponentResource):
    """Exposes `arn` and `policy` (the delivery channel waits for it: Config checks that it may
    publish when the channel is created). Encrypted with the ConfigTrail key of its region:
    AWS-managed SNS keys do not let a service principal such as AWS Config publish."""

    def __init__(
        self, name: str, args: NotificationTopicArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("configtrail:notify:NotificationTopic", name, None, opts)
        topic = aws.sns.Topic(
            name,
            name=args.topic_name,
            kms_master_key_id=args.kms_key_arn,
            region=args.region,
            opts=child(self),
        )
        self.policy = aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=topic.arn,
            policy=json_policy(
                topic.arn, args.account.account_id, build=documents.config_topic_policy
            ),
            region=args.region,
            opts=child(self),
        )
        self.arn = topic.arn
        self.register_outputs({"arn": self.arn})
