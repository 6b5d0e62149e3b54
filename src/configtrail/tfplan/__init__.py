"""The offline plan in Terraform plan JSON form, so checkov's AWS checks scan this stack.

`configtrail plan` writes `build/<env>/tfplan.json` beside `stack.json`; `configtrail checkov`
scans every environment's file. See convert.py for the format and typemap.py for the type map.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from configtrail.tfplan import typemap
from configtrail.tfplan.convert import ExportError, convert

__all__ = ["ExportError", "convert", "from_stack_export", "write"]


def from_stack_export(export: dict[str, Any]) -> dict[str, Any]:
    """The Terraform plan JSON of a `pulumi stack export` document, with the repository's map."""
    return convert(export, typemap.load())


def write(export: dict[str, Any], path: Path) -> Path:
    """Write the Terraform plan JSON of `export` to `path` and return the path."""
    from configtrail import files

    return files.write_text(
        path, json.dumps(from_stack_export(export), indent=2, sort_keys=True) + "\n"
    )
