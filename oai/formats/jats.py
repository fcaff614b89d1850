"""The `jats` metadata format: being written (issue 7); registers nothing yet."""

from __future__ import annotations
