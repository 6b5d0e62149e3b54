"""ConfigTrail's CrossGuard policy pack: one definition per policy (definition.py) in the service
modules (s3, recording, identity, tagging, stack), the data the pack carries (data/), and
`pack.policies()`, which `policies/__main__.py` wraps in `PolicyPack(...)`.

Importable on its own (tests, the README table); only `__main__.py` starts the analyzer server.
"""
