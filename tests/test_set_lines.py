"""Set definition lines in the import format: `{"set", "name", "description"}` (issue 11).

Export writes them before the records, so export then import keeps set names and
descriptions (tests/test_cli.py); import reads them as `oaipress set` would.
"""

from __future__ import annotations

import json

import pytest

from records.lines import ImportSummary, parse_lines
from tests.conftest import make_record


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"set": "driver", "name": "Mine"}, "set"),
        ({"set": "not a spec", "name": "x"}, "set"),
        ({"set": "cac"}, "name"),
        ({"set": "cac", "name": "x", "title": "y"}, "title"),
    ],
)
def test_a_bad_set_line_is_a_line_error(line, field):
    summary = ImportSummary()
    assert list(parse_lines([json.dumps(line)], summary)) == []
    assert [e.field for e in summary.errors] == [field]


def test_a_set_line_is_not_a_record(app, load):
    summary = ImportSummary()
    items = list(
        parse_lines([json.dumps({"set": "cac", "name": "C"}), json.dumps(make_record(1))], summary)
    )
    assert [item.names_a_set for item in items] == [True, False]
