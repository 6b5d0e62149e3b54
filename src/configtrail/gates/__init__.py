"""Local gates: checkov over the plan, workflows and secrets; the Pulumi stack-file secrets scan."""
