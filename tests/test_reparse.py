"""Re-reading only the entries a batch of splices touched (cfnfix.text.reparse): the document it
builds is the one a reading of the whole text gives — data, every node's type, offsets, line,
column, tag, value and style — and it declines (None) whatever it cannot read in parts."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from cfnfix.errors import TemplateError
from cfnfix.text.document import Document
from cfnfix.text.edits import Append, Delete, EditError, Insert, RenameKey, SetValue
from cfnfix.text.reparse import _flat, reparse
from cfnfix.text.splice import resolve, splice

ROOT = Path(__file__).resolve().parent.parent

TEMPLATE = """\
---
AWSTemplateFormatVersion: "2010-09-09"
Description: reparse cases
Parameters:
  Env:
    Type: String
    Default: dev
Resources:
  # the queue first
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60

  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${Env}-topic"
      Tags:
        - Key: team
          Value: data
  # a comment between entries
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  TopicArn:
    Value: !Ref Topic
    Export: {}
"""


def spliced(text: str, edits: list, name: str = "t.yaml") -> tuple[Document, str, list]:
    doc = Document(text, name)
    splices = resolve(doc, edits)
    return doc, splice(text, splices), splices


def assert_same(new: Document | None, new_text: str) -> None:
    assert new is not None
    full = Document(new_text, new.filename)
    assert new.text == new_text
    assert new.data == full.data and list(new.data) == list(full.data)
    for section in full.data:
        if isinstance(full.data[section], dict):
            assert list(new.data[section]) == list(full.data[section])
    assert list(_flat(new.root)) == list(_flat(full.root))


JSON_TEMPLATE = json.dumps(Document(TEMPLATE).data, indent=2) + "\n"


@pytest.fixture(autouse=True)
def no_cross_check(monkeypatch):
    """These tests compare with a full reading themselves."""
    monkeypatch.delenv("CFNFIX_CHECK_REPARSE", raising=False)


@pytest.mark.parametrize("edits", [
    [SetValue(("Resources", "Queue", "Properties", "VisibilityTimeout"), 120)],
    [SetValue(("Resources", "Topic", "Properties", "TopicName"), {"Fn::Sub": "${Env}-topic-with-a-longer-name"})],
    [Insert(("Resources", "Topic", "Properties"), "DisplayName", "Alerts\nfor the team")],
    [Append(("Resources", "Topic", "Properties", "Tags"), {"Key": "cost", "Value": "1"})],
    [Delete(("Resources", "Topic"))],
    [Delete(("Resources", "Bucket"))],  # with the comment above it
    [Insert(("Resources",), "Policy", {"Type": "AWS::SNS::TopicPolicy", "Properties": {"Topics": [{"Ref": "Topic"}]}})],
    [Insert(("Resources",), "First", {"Type": "AWS::SQS::Queue"}, before="Queue")],
    [RenameKey(("Resources", "Bucket"), "Data")],
    [SetValue(("Outputs", "TopicArn", "Export"), {"Name": {"Fn::Sub": "${AWS::StackName}-TopicArn"}})],
    [Insert(("Parameters",), "Team", {"Type": "String"}),
     SetValue(("Resources", "Queue", "Properties", "VisibilityTimeout"), {"Ref": "Team"}),
     SetValue(("Outputs", "TopicArn", "Export"), {"Name": "x"})],
], ids=lambda e: type(e[0]).__name__ + "-" + "-".join(map(str, e[0].path)))
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_edits_inside_section_entries_are_read_in_part(edits, newline):
    doc, new_text, splices = spliced(TEMPLATE.replace("\n", newline), edits)
    assert_same(reparse(doc, new_text, splices), new_text)


def test_the_old_document_is_left_as_it_was():
    doc, new_text, splices = spliced(TEMPLATE, [Insert(("Parameters",), "Team", {"Type": "String"})])
    before = list(_flat(doc.root))
    new = reparse(doc, new_text, splices)
    assert_same(new, new_text)
    assert list(_flat(doc.root)) == before and doc.data == Document(TEMPLATE).data
    # what did not move is shared; what moved is a copy
    assert new.root.pairs[0][0] is doc.root.pairs[0][0]
    assert new.root.pairs[-1][1] is not doc.root.pairs[-1][1]


@pytest.mark.parametrize("text, edits, why", [
    ('{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}, "R": {"Type": "AWS::SQS::Queue"}}}',
     [SetValue(("Resources", "Q", "Type"), "AWS::SNS::Topic")], "JSON: an entry after it on its line"),
    ('{\r\n"Resources": {\r\n"Q": {"Type": "AWS::SQS::Queue"}\r\n}\r\n}\r\n',
     [SetValue(("Resources", "Q", "Type"), "AWS::SNS::Topic")], "JSON: CR line ends"),
    (JSON_TEMPLATE, [Insert(("Resources",), "New", {"Type": "AWS::SQS::Queue"})], "JSON: a new entry"),
    ("Resources: {Q: {Type: AWS::SQS::Queue}}\n", [SetValue(("Resources", "Q", "Type"), "AWS::SNS::Topic")], "a flow-style section"),
    ("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: &p {DelaySeconds: 1}\n  R:\n    Type: AWS::SQS::Queue\n"
     "    Properties: *p\n", [SetValue(("Resources", "R", "Type"), "AWS::SNS::Topic")], "anchors and aliases"),
    ("%TAG ! tag:example.com,2000:\n---\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n",
     [SetValue(("Resources", "Q", "Type"), "AWS::SNS::Topic")], "a %TAG directive"),
    (TEMPLATE, [Insert((), "Conditions", {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}, before="Resources")],
     "a new section"),
    (TEMPLATE, [SetValue(("Description",), "changed")], "a top-level value"),
    # the parser does not count a line separator inside a plain key as a line, the document does
    (TEMPLATE.replace("  Env:", "  En\u2028v:"), [SetValue(("Resources", "Queue", "Type"), "AWS::SNS::Topic")],
     "a line separator"),
])
def test_what_cannot_be_read_in_part_is_declined(text, edits, why):
    doc, new_text, splices = spliced(text, edits, "t.json" if why.startswith("JSON") else "t.yaml")
    assert reparse(doc, new_text, splices) is None, why


@pytest.mark.parametrize("edits", [
    [SetValue(("Resources", "Queue", "Properties", "VisibilityTimeout"), 90)],
    [SetValue(("Resources", "Topic", "Properties", "Tags"), [{"Key": "a", "Value": "b\nc"}])],
    [RenameKey(("Resources", "Bucket"), "Store"), SetValue(("Outputs", "TopicArn", "Export"), {"Name": "x"})],
    [Insert(("Resources", "Queue", "Properties"), "DelaySeconds", 5), Delete(("Resources", "Topic", "Properties", "Tags"))],
])
def test_json_entries_are_read_in_part(edits):
    doc, new_text, splices = spliced(JSON_TEMPLATE, edits, "t.json")
    doc.root  # a JSON document builds its tree on first use; the re-reading needs the old one
    new = reparse(doc, new_text, splices)
    assert_same(new, new_text)
    assert new.root.pairs[0][1] is doc.root.pairs[0][1]  # the section before is shared


def test_a_key_the_section_would_hold_twice_is_declined():
    doc = Document(TEMPLATE)
    queue = doc.key_at(("Resources", "Queue"))
    from cfnfix.text.splice import Splice

    at = doc.line_start(doc.key_at(("Resources", "Bucket")).start)
    splices = [Splice(at, at, "  Queue:\n    Type: AWS::SNS::Topic\n")]
    new_text = splice(TEMPLATE, splices)
    assert queue is not None and reparse(doc, new_text, splices) is None


def _edits_for(doc: Document, rng: random.Random) -> list:
    """A random edit inside a random entry of a random section."""
    sections = [k for k, v in doc.data.items() if isinstance(v, dict) and v]
    if not sections:
        return []
    section = rng.choice(sections)
    name = rng.choice(list(doc.data[section]))
    entry = doc.data[section][name]
    choice = rng.randrange(4)
    if choice == 0:
        return [Delete((section, name))]
    if choice == 1:
        return [Insert((section,), f"Zz{rng.randrange(10**6)}", {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 5}})]
    if choice == 2 and isinstance(entry, dict) and entry:
        key = rng.choice(list(entry))
        return [SetValue((section, name, key), rng.choice(["x", 12, {"Ref": "AWS::Region"}, ["a", "b"], "two\nlines"]))]
    return [RenameKey((section, name), f"Renamed{rng.randrange(10**6)}")]


@pytest.mark.parametrize("kind, least", [("yaml", 200), ("json", 20)])
def test_random_edits_on_the_golden_inputs_read_in_part_as_in_whole(kind, least):
    rng = random.Random(20261130)
    inputs = sorted((ROOT / "golden").glob(f"*/*/input.{kind}"))
    assert len(inputs) > 10
    read_in_part = 0
    for path in inputs:
        text = path.read_text(encoding="utf-8")
        try:
            doc = Document(text, path.name)
            doc.root  # JSON: the tree the re-reading starts from
        except TemplateError:
            continue
        for _ in range(3):
            edits = _edits_for(doc, rng)
            try:
                splices = resolve(doc, edits)
            except EditError:
                continue
            new_text = splice(text, splices)
            try:
                Document(new_text, path.name)
            except TemplateError:
                assert reparse(doc, new_text, splices) is None
                continue
            new = reparse(doc, new_text, splices)
            if new is not None:
                read_in_part += 1
                assert_same(new, new_text)
    assert read_in_part > least


@pytest.mark.parametrize("tail", ["", "\n  Next:\n    Type: AWS::SQS::Queue\n"])
def test_the_trailing_lines_of_a_block_scalar_stay_in_its_entry(tail):
    """Lines of spaces at the end of a ``|`` block are content (they are deeper than the block's
    indentation) though the node ends before them; the long fuzz run found the entry re-read
    without them. At the end of the text, and before the next entry."""
    text = ("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Handler: index.handler\n"
            "      Code:\n        ZipFile: |\n          import json\n" + " " * 40 + tail)
    doc, new_text, splices = spliced(text, [SetValue(("Resources", "Fn", "Properties", "Handler"), "app.handler")])
    new = reparse(doc, new_text, splices)
    assert_same(new, new_text)
    assert new.data["Resources"]["Fn"]["Properties"]["Code"]["ZipFile"] == Document(text).data["Resources"]["Fn"]["Properties"]["Code"]["ZipFile"]


def test_many_crlf_blank_lines_before_an_entry_are_read_in_part():
    """The check that a re-read region holds only blank lines and comments was a regular
    expression that backtracked without end over many CRLF lines followed by content (the long
    fuzz run found it with 100,000: the fix never finished)."""
    from cfnfix.text.reparse import _comments_only

    text = ("Resources:" + "\r\n" * 2000 + "  Queue:\r\n    Type: AWS::SQS::Queue\r\n"
            "  Topic:\r\n    Type: AWS::SNS::Topic\r\n")
    doc, new_text, splices = spliced(text, [SetValue(("Resources", "Queue", "Type"), "AWS::SQS::Queue2")])
    assert_same(reparse(doc, new_text, splices), new_text)
    assert not _comments_only("\r\n" * 2000 + "  Queue:\r\n")
    rng = random.Random(3)
    pieces = ["\r\n", "\n", "\r", " ", "\t", "# c", "x", "#"]
    for _ in range(2000):  # the same answers as the expression had on short texts
        t = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        old = re.fullmatch(r"(?:[ \t]*(?:#[^\n\r]*)?(?:\r\n|\n|\r))*[ \t]*(?:#[^\n\r]*)?", t) is not None
        assert _comments_only(t) == old, repr(t)
