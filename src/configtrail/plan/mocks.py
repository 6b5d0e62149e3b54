"""Mocks that answer like AWS for the values the program and the policies read: ids, ARNs, the
account id. These are stand-ins for the provider in the offline plan and in tests; they decide
nothing about whether AWS would accept a request (only a real `pulumi preview` can)."""

from __future__ import annotations

import hashlib

import pulumi

# The account the credentials belong to when no stack names one (the bootstrap's tests).
DEFAULT_ACCOUNT_ID = "123456789012"
PARTITION = "aws"


def _digest(*parts: str, length: int = 32) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _key_id(name: str) -> str:
    h = _digest(name)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class AwsLikeMocks(pulumi.runtime.Mocks):
    """Outputs AWS would compute, derived deterministically from the inputs.

    With `preview=True` they return no computed values, so everything AWS assigns on create
    (ARNs, ids of unnamed resources) is unknown, as in a first-time `pulumi preview`.
    """

    def __init__(
        self, home_region: str, account_id: str = DEFAULT_ACCOUNT_ID, preview: bool = False
    ):
        self.home_region = home_region
        # The account of the (stand-in) credentials: what getCallerIdentity answers, and the
        # account in the ARNs of what the stack creates.
        self.account_id = account_id
        self.preview = preview

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:{PARTITION}:iam::{self.account_id}:user/configtrail-plan",
                "userId": "AIDACONFIGTRAILPLAN",
                "id": self.account_id,
            }
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION}
        return {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        if args.resource_id:  # an import: AWS knows the id already
            return args.resource_id, {**inputs, **self._computed(args, inputs, args.resource_id)}
        if self.preview and not args.typ.startswith("pulumi:providers:"):
            return None, inputs
        physical = self._physical_id(args, inputs)
        return physical, {**inputs, **self._computed(args, inputs, physical)}

    # ids and ARNs, per type, as AWS forms them

    def _physical_id(self, args: pulumi.runtime.MockResourceArgs, inputs: dict) -> str:
        typ = args.typ
        if typ == "aws:kms/key:Key":
            return _key_id(args.name)
        if typ == "aws:sns/topic:Topic":
            return self._arn("sns", inputs, inputs.get("name") or args.name)
        if typ == "aws:iam/serviceLinkedRole:ServiceLinkedRole":
            service = inputs.get("awsServiceName", "")
            return self._slr_arn(service)
        for key in ("bucket", "name"):
            if isinstance(inputs.get(key), str) and inputs[key]:
                return inputs[key]
        return f"{args.name}-{_digest(args.typ, args.name, length=8)}"

    def _region(self, inputs: dict) -> str:
        return inputs.get("region") or self.home_region

    def _arn(self, service: str, inputs: dict, resource: str) -> str:
        return f"arn:{PARTITION}:{service}:{self._region(inputs)}:{self.account_id}:{resource}"

    def _slr_arn(self, service: str) -> str:
        role = "AWSServiceRoleForConfig" if service == "config.amazonaws.com" else "AWSServiceRole"
        return f"arn:{PARTITION}:iam::{self.account_id}:role/aws-service-role/{service}/{role}"

    def _computed(self, args: pulumi.runtime.MockResourceArgs, inputs: dict, physical: str):
        typ = args.typ
        region = self._region(inputs)
        if typ == "aws:s3/bucket:Bucket":
            return {
                "arn": f"arn:{PARTITION}:s3:::{physical}",
                "bucket": physical,
                "region": region,
                "bucketDomainName": f"{physical}.s3.amazonaws.com",
                "bucketRegionalDomainName": f"{physical}.s3.{region}.amazonaws.com",
                "forceDestroy": inputs.get("forceDestroy", False),
                "objectLockEnabled": inputs.get("objectLockEnabled", False),
            }
        if typ == "aws:kms/key:Key":
            return {
                "arn": self._arn("kms", inputs, f"key/{physical}"),
                "keyId": physical,
                "enableKeyRotation": inputs.get("enableKeyRotation", False),
            }
        if typ == "aws:kms/alias:Alias":
            return {"arn": self._arn("kms", inputs, inputs.get("name", physical))}
        if typ == "aws:sns/topic:Topic":
            return {"arn": physical, "name": inputs.get("name") or args.name}
        if typ == "aws:iam/role:Role":
            return {
                "arn": f"arn:{PARTITION}:iam::{self.account_id}:role/{physical}",
                "name": physical,
                "uniqueId": "AROA" + _digest(physical, length=17).upper(),
            }
        if typ == "aws:iam/serviceLinkedRole:ServiceLinkedRole":
            return {"arn": physical, "name": physical.rsplit("/", 1)[-1]}
        if typ == "aws:iam/policy:Policy":
            return {"arn": f"arn:{PARTITION}:iam::{self.account_id}:policy/{physical}"}
        if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = str(inputs.get("url", "")).removeprefix("https://")
            return {"arn": f"arn:{PARTITION}:iam::{self.account_id}:oidc-provider/{host}"}
        if typ == "aws:cfg/rule:Rule":
            return {
                "arn": self._arn("config", inputs, f"config-rule/{_digest(physical, length=6)}"),
                "ruleId": "config-rule-" + _digest(physical, length=6),
            }
        if typ in ("aws:cfg/recorder:Recorder", "aws:cfg/deliveryChannel:DeliveryChannel"):
            return {"name": physical}
        if typ == "aws:cfg/configurationAggregator:ConfigurationAggregator":
            return {"arn": self._arn("config", inputs, f"config-aggregator/{physical}")}
        return {}
