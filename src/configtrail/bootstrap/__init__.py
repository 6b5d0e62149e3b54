"""The bootstrap project: what an administrator creates once per AWS account so the pipeline can
reach it without stored keys — GitHub's OIDC provider, a read-only preview role and one deploy
role per environment. `bootstrap/__main__.py` runs `program.main()`; the offline plan and the
tests import the same code."""
