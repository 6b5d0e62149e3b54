"""ConfigTrail's CrossGuard policy pack: the policies, their metadata and config schemas.

Importable on its own (tests, the offline runner); `policies/__main__.py` only wraps
`pack.policies()` in `PolicyPack(...)`, which starts the analyzer server.
"""
