"""One region's recording: recorder, delivery channel, the started recorder and Config's own
retention.

Recorder and channel are singletons per account and region, and their names cannot be changed in
place: a new name replaces them, and Pulumi's default (create the new one, then delete the old)
would fail with MaxNumberOfConfigurationRecordersExceededException. They are replaced
delete-first instead (recorded history stays: deleting a recorder keeps what it recorded).

Order matters and is explicit: the channel waits for the recorder and for the archive's bucket
policy (else the first delivery fails with InsufficientDeliveryPolicyException); the recorder is
started only once the channel exists; a recorder that is never started records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from configtrail.stack.base import child


@dataclass(frozen=True)
class RegionalRecorderArgs:
    region: str
    existing: str  # "create" | "adopt" | "skip"
    recorder_name: str
    channel_name: str
    role_arn: pulumi.Input[str]
    recording_group: dict
    recording_mode: dict
    bucket_name: pulumi.Input[str]
    key_prefix: str
    delivery_frequency: str
    retention_days: int
    kms_key_arn: pulumi.Input[str] | None
    sns_topic_arn: pulumi.Input[str] | None
    delivery_ready: list[pulumi.Resource]


class RegionalRecorder(pulumi.ComponentResource):
    """Exposes `recorder_name` and `status` (None when the environment skips the recorder)."""

    def __init__(
        self, name: str, args: RegionalRecorderArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("configtrail:recording:RegionalRecorder", name, None, opts)
        self.status: aws.cfg.RecorderStatus | None = None
        self.recorder_name = pulumi.Output.from_input(args.recorder_name)
        if args.existing != "skip":
            self._record(name, args)
        aws.cfg.RetentionConfiguration(
            f"{name}-retention",
            retention_period_in_days=args.retention_days,
            region=args.region,
            opts=child(self),
        )
        self.register_outputs({"recorder_name": self.recorder_name})

    def _record(self, name: str, args: RegionalRecorderArgs) -> None:
        adopt = args.existing == "adopt"
        recorder = aws.cfg.Recorder(
            f"{name}-recorder",
            name=args.recorder_name,
            role_arn=args.role_arn,
            recording_group=args.recording_group,
            recording_mode=args.recording_mode,
            region=args.region,
            opts=child(
                self,
                import_id=args.recorder_name if adopt else None,
                delete_before_replace=True,
            ),
        )
        channel = aws.cfg.DeliveryChannel(
            f"{name}-channel",
            name=args.channel_name,
            s3_bucket_name=args.bucket_name,
            s3_key_prefix=args.key_prefix,
            s3_kms_key_arn=args.kms_key_arn,
            sns_topic_arn=args.sns_topic_arn,
            snapshot_delivery_properties={"delivery_frequency": args.delivery_frequency},
            region=args.region,
            opts=child(
                self,
                depends_on=[recorder, *args.delivery_ready],
                import_id=args.channel_name if adopt else None,
                delete_before_replace=True,
            ),
        )
        self.status = aws.cfg.RecorderStatus(
            f"{name}-status",
            name=recorder.name,
            is_enabled=True,
            region=args.region,
            opts=child(self, depends_on=[channel], import_id=args.recorder_name if adopt else None),
        )
        self.recorder_name = recorder.name
