"""A stand-in evaluator for the part of GitHub Actions' expression language that job conditions
here use, so tests can ask what a condition means for a given event instead of comparing its text.

Follows GitHub's documented semantics for what it supports: literals ('text' with '' escapes,
true, false, null), context paths (`github.event.pull_request.user.login`; a missing property is
null), `!`, `==`, `!=` (strings compared case-insensitively), `&&`, `||` (returning an operand,
as GitHub does) and parentheses, with GitHub's precedence and falsy values (false, 0, '', null).
Anything else — functions such as always() or contains(), indexing, `<` — is refused with an
error, never guessed.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<word>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*))"
)


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """The value of `expression` (with or without `${{ }}`) in `context`."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    tokens = _tokenize(text)
    value, rest = _or(tokens, context)
    if rest:
        raise ValueError(f"unexpected {rest[0]!r} in {expression!r}")
    return value


def truthy(value: Any) -> bool:
    return value not in (False, 0, "", None)


def _tokenize(text: str) -> list[str]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"this stand-in cannot read {text[position:]!r}")
        tokens.append(match.group(match.lastgroup))
        position = match.end()
    return tokens


def _or(tokens: list[str], context: dict) -> tuple[Any, list[str]]:
    value, tokens = _and(tokens, context)
    while tokens[:1] == ["||"]:
        right, tokens = _and(tokens[1:], context)
        value = value if truthy(value) else right
    return value, tokens


def _and(tokens: list[str], context: dict) -> tuple[Any, list[str]]:
    value, tokens = _equality(tokens, context)
    while tokens[:1] == ["&&"]:
        right, tokens = _equality(tokens[1:], context)
        value = right if truthy(value) else value
    return value, tokens


def _equality(tokens: list[str], context: dict) -> tuple[Any, list[str]]:
    value, tokens = _unary(tokens, context)
    while tokens[:1] in (["=="], ["!="]):
        operator = tokens[0]
        right, tokens = _unary(tokens[1:], context)
        equal = _equal(value, right)
        value = equal if operator == "==" else not equal
    return value, tokens


def _unary(tokens: list[str], context: dict) -> tuple[Any, list[str]]:
    if not tokens:
        raise ValueError("expression ends early")
    if tokens[0] == "!":
        value, rest = _unary(tokens[1:], context)
        return not truthy(value), rest
    if tokens[0] == "(":
        value, rest = _or(tokens[1:], context)
        if rest[:1] != [")"]:
            raise ValueError("unbalanced parentheses")
        return value, rest[1:]
    return _atom(tokens[0], context), tokens[1:]


def _atom(token: str, context: dict) -> Any:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    literals = {"true": True, "false": False, "null": None}
    if token in literals:
        return literals[token]
    if token in ("==", "!=", "&&", "||", ")"):
        raise ValueError(f"unexpected {token!r}")
    value: Any = context
    for part in token.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return left == right
