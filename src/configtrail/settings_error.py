"""The one error type for unusable input: bad settings, unreadable files, refused estates."""

from __future__ import annotations


class SettingsError(Exception):
    """Bad input: one line per problem, each naming file, key, value and what is allowed."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))
