"""Pulumi entry point of the bootstrap project. The program lives in the importable
`configtrail.bootstrap` package, so the offline plan and the tests run exactly this code."""

from configtrail.bootstrap.program import main

main()
