"""The checks, one module per area; :data:`ALL` is every check in the order it runs.

A module lists its checks in ``CHECKS``. Probes (requests) run first, module by module
in the order below, so that cheap, informative requests come before the list walks
that may spend the rest of the budget; summaries (over everything seen) run last.
"""

from __future__ import annotations

from oai.validator.checks import dates, errors, getrecord, identify, lists, politeness, schema
from oai.validator.context import Check

MODULES = (identify, getrecord, dates, errors, politeness, lists, schema)
ALL: tuple[Check, ...] = tuple(check for module in MODULES for check in module.CHECKS)
