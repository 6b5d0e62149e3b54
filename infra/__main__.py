"""Pulumi entry point. The program lives in the importable `configtrail.stack` package so the
offline plan and the tests run exactly what `pulumi preview` / `pulumi up` run."""

from configtrail.stack.program import main

main()
