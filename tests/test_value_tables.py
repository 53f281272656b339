"""The generated tables behind RDS001 and LAMBDA002/LAMBDA004, and the date those fixers judge by."""

from __future__ import annotations

import datetime

import pytest

import cfnfix
from cfnfix.fixers.lambda_ import runtime
from cfnfix.fixers.rds import engine_version


@pytest.mark.parametrize("table", [engine_version.table(), runtime.table()], ids=["rds", "lambda"])
def test_tables_record_source_and_date(table):
    assert "cfn-lint" in table["source"]
    datetime.date.fromisoformat(table["generated"])


def test_rds_versions_order_numerically_and_lines():
    key = engine_version.version_key
    assert key("8.0.9") < key("8.0.10") < key("8.0.10-rds.20260101")
    assert engine_version.major_line("postgres", "9.6.24") == "9.6"
    assert engine_version.major_line("postgres", "16.10-limitless") == "16"
    assert engine_version.major_line("aurora-mysql", "8.0.mysql_aurora.3.04.0") == "8.0"
    assert engine_version.major_line("custom-oracle-ee", "19.my_cev1") is None


def test_lambda_successor_depends_on_the_date():
    # python3.11 is deprecated on 2027-06-30: six months before that it is no longer a target.
    assert runtime.successor("python3.7", datetime.date(2026, 11, 29)) == "python3.11"
    assert runtime.successor("python3.7", datetime.date(2027, 1, 15)) == "python3.12"
    assert runtime.status("python3.9", datetime.date(2026, 11, 29)) == "deprecated"
    assert runtime.status("python3.9", datetime.date(2027, 2, 1)) == "blocked"
    assert runtime.status("python3.12", datetime.date(2026, 11, 29)) is None
    assert runtime.add_months(datetime.date(2026, 8, 31), 6) == datetime.date(2027, 2, 28)


TEMPLATE = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.9
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/fn
      Code: {S3Bucket: artifacts, S3Key: fn.zip}
"""


def test_today_is_injectable_and_checked():
    on = {"today": "2027-03-01"}
    blocked = cfnfix.fix_text(TEMPLATE, select=["LAMBDA002"], options={"LAMBDA002": on})
    assert "Runtime: python3.12" in blocked.text  # python3.11 is deprecated within six months
    deprecated = cfnfix.fix_text(TEMPLATE, select=["LAMBDA002"], options={"LAMBDA002": {"today": datetime.date(2026, 1, 1)}})
    assert deprecated.text == TEMPLATE  # only deprecated then: LAMBDA004's
    with pytest.raises(ValueError, match="today must be a date"):
        cfnfix.fix_text(TEMPLATE, select=["LAMBDA002"], options={"LAMBDA002": {"today": "next week"}})
