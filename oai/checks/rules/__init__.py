"""Every rule, registered in one place: one module per group, each a list of rules.

To add a rule: write its function in its group's module, add a ``Rule`` to that module's
``RULES`` (or a ``CrossRule`` to ``CROSS_RULES``), give it a breaking record in
tests/test_checks_rules.py, and run ``python -m oai.checks.docs`` to list it in
docs/checks.md. A new group is a new module named in ``GROUPS``.
"""

from __future__ import annotations

from oai.checks.model import AnyRule, CrossRule, Rule
from oai.checks.rules import oai_basics, openaire, quality, scholar

#: group → what it is for (the order of reports and of docs/checks.md)
GROUPS: dict[str, str] = {
    "oai": "OAI-PMH and oai_dc basics",
    "openaire": "DRIVER and OpenAIRE (v3 oai_dc, v4 oai_openaire)",
    "scholar": "Google Scholar",
    "quality": "Data quality",
}

#: a line of an import file that import would refuse (only when checking a file)
LINE_RULE = Rule(
    id="import.refused",
    group="import",
    severity="error",
    source="oaipress record format (docs/record-format.md): import refuses the line",
    summary="a line that oaipress import would refuse",
    check=lambda record: (),
)

RECORD_RULES: list[Rule] = [
    *oai_basics.RULES,
    *openaire.RULES,
    *scholar.RULES,
    *quality.RULES,
]
CROSS_RULES: list[CrossRule] = [*quality.CROSS_RULES]
ALL_RULES: list[AnyRule] = [*RECORD_RULES, *CROSS_RULES]
BY_ID: dict[str, AnyRule] = {rule.id: rule for rule in [*ALL_RULES, LINE_RULE]}


def _check_registry() -> None:
    """Ids are unique, prefixed by their group, and every group is known."""
    ids = [rule.id for rule in ALL_RULES]
    duplicated = {i for i in ids if ids.count(i) > 1}
    if duplicated:
        raise RuntimeError(f"rule ids given twice: {sorted(duplicated)}")
    for rule in ALL_RULES:
        if rule.group not in GROUPS or not rule.id.startswith(rule.group + "."):
            raise RuntimeError(f"rule {rule.id} has an unknown group {rule.group!r}")


_check_registry()


def select(groups: list[str] | None) -> tuple[list[Rule], list[CrossRule]]:
    """The rules of these groups (all when None); an unknown group is a ValueError."""
    if groups is None:
        return list(RECORD_RULES), list(CROSS_RULES)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ValueError(
            f"unknown rule group(s): {', '.join(unknown)}; the groups are {', '.join(GROUPS)}"
        )
    return (
        [r for r in RECORD_RULES if r.group in groups],
        [r for r in CROSS_RULES if r.group in groups],
    )
