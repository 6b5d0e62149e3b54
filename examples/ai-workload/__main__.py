"""Entry point of the example AI workload stack: the resources live in workload.py."""

import pulumi
from workload import build

for key, value in build(pulumi.Config().get("variant") or "compliant").items():
    pulumi.export(key, value)
