"""Helpers the GitHub workflows call through make targets: drift reports and drift issues."""
