"""Lossless round trip: with no fixer, every byte comes back; with edits, only touched lines change."""

from __future__ import annotations

import difflib

import pytest

import cfnfix
from cfnfix.text.document import Document
from cfnfix.text.edits import Append, Delete, Insert, RenameKey, SetValue, apply_to_data
from cfnfix.text.splice import resolve, splice

ROUND_TRIP = {
    "short-and-long.yaml": "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-a'\n      Tags:\n        - Key: k\n          Value:\n            Fn::GetAtt: [B, Arn]\n",
    "comments-anchors.yaml": "# top\nResources:  # all\n  A: &res\n    Type: AWS::SNS::Topic   # trailing\n  B: *res\n",
    "block-scalars.yaml": "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code:\n        ZipFile: |\n          import json\n\n          def handler(e, c):\n              return 1\n\n\n      Description: >-\n        folded\n        text\n",
    "flow.yaml": "Resources: {A: {Type: 'AWS::SQS::Queue', Properties: {DelaySeconds: 0}}}\n",
    "crlf.yaml": "Resources:\r\n  A:\r\n    Type: AWS::SQS::Queue\r\n",
    "bom.yaml": "\ufeffResources:\n  A:\n    Type: AWS::SQS::Queue\n",
    "no-final-newline.yaml": "Resources:\n  A:\n    Type: AWS::SQS::Queue",
    "yaml11.yaml": "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties:\n      FifoQueue: yes\n      DelaySeconds: 0123\n",
    "tabs.json": '{\n\t"Resources": {\n\t\t"A": {"Type": "AWS::SQS::Queue"}\n\t}\n}\n',
    "spaced-colons.json": '{\n    "Resources" : {\n        "A" : {\n            "Type" : "AWS::SNS::Topic",\n            "Properties" : {"Tags" : [{"Key" : "a", "Value" : "b"}]}\n        }\n    }\n}',
    "one-line.json": '{"Resources":{"A":{"Type":"AWS::SNS::Topic"}}}',
    "crlf.json": '{\r\n  "Resources": {\r\n    "A": {"Type": "AWS::SNS::Topic"}\r\n  }\r\n}\r\n',
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_no_fixer_returns_every_byte(name):
    text = ROUND_TRIP[name]
    assert cfnfix.fix_text(text, filename=name, select=[]).text == text
    assert cfnfix.fix_text(text, filename=name).text == text  # no default fixer applies


def _apply(text, name, edits):
    doc = Document(text, name)
    out = splice(text, resolve(doc, edits))
    assert Document(out, name).data == apply_to_data(doc.data, edits)
    return out


def _changed_lines(a, b):
    return [l for l in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0) if l[:1] in "+-" and l[:3] not in ("+++", "---")]


def test_delete_key_changes_one_line():
    text = ROUND_TRIP["short-and-long.yaml"]
    out = _apply(text, "t.yaml", [Delete(("Resources", "A", "Properties", "BucketName"))])
    assert _changed_lines(text, out) == ["-      BucketName: !Sub '${AWS::StackName}-a'"]


def test_new_scalars_are_quoted_by_yaml_1_1_rules():
    text = "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties: {}\n"
    out = _apply(text, "t.yaml", [SetValue(("Resources", "A", "Properties"), {"A": "yes", "B": "On", "C": "n", "D": "0123", "E": "plain", "F": "a: b", "G": 5})])
    assert "A: 'yes'" in out and "B: 'On'" in out and "C: 'n'" in out and "D: '0123'" in out
    assert "E: plain" in out and "F: 'a: b'" in out and "G: 5" in out


def test_new_content_follows_file_style_yaml():
    # 4-space indent, sequences flush with their key, double quotes, long-form intrinsics
    text = 'Resources:\n    A:\n        Type: "AWS::SQS::Queue"\n        DependsOn:\n        - B\n        Properties:\n            QueueName:\n                Ref: "Name"\n'
    out = _apply(text, "t.yaml", [
        Insert(("Resources", "A", "Properties"), "Tags", [{"Key": "yes", "Value": {"Ref": "X"}}]),
        Append(("Resources", "A", "DependsOn"), "C"),
    ])
    assert out.endswith('                Ref: "Name"\n            Tags:\n            - Key: "yes"\n              Value:\n                  Ref: X\n')
    assert "        - B\n        - C\n" in out


def test_new_content_follows_file_style_json_tabs_and_colons():
    text = ROUND_TRIP["tabs.json"]
    out = _apply(text, "t.json", [Insert(("Resources", "A"), "Properties", {"QueueName": {"Ref": "N"}, "Tags": [{"Key": "a", "Value": "b"}]})])
    assert out == '{\n\t"Resources": {\n\t\t"A": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "N"}, "Tags": [{"Key": "a", "Value": "b"}]}}\n\t}\n}\n'
    text = ROUND_TRIP["spaced-colons.json"]
    out = _apply(text, "t.json", [Insert(("Resources", "A"), "DependsOn", ["B"], after="Type")])
    assert '"Type" : "AWS::SNS::Topic",\n            "DependsOn" : [\n                "B"\n            ],\n' in out


def test_crlf_and_missing_final_newline_kept():
    text = ROUND_TRIP["no-final-newline.yaml"].replace("\n", "\r\n")
    out = _apply(text, "t.yaml", [Insert(("Resources", "A"), "Condition", "C")])
    assert out == "Resources:\r\n  A:\r\n    Type: AWS::SQS::Queue\r\n    Condition: C"


def test_bom_kept_and_edits_land_in_place():
    text = ROUND_TRIP["bom.yaml"]
    out = _apply(text, "t.yaml", [RenameKey(("Resources", "A", "Type"), "Typo")])
    assert out == "\ufeffResources:\n  A:\n    Typo: AWS::SQS::Queue\n"


def test_delete_first_key_of_sequence_item():
    text = "Tags:\n  - Key: a\n    Value: b\n  - Key: c\n    Value: d\nResources: {}\n"
    out = _apply(text, "t.yaml", [Delete(("Tags", 0, "Key")), Delete(("Tags", 1))])
    assert out == "Tags:\n  - Value: b\nResources: {}\n"


def test_deleting_last_entry_leaves_empty_collection():
    text = '{"Resources": {"A": {"Type": "X", "DependsOn": ["B"]}}}'
    out = _apply(text, "t.json", [Delete(("Resources", "A", "DependsOn", 0))])
    assert out == '{"Resources": {"A": {"Type": "X", "DependsOn": []}}}'


def test_block_scalar_value_replaced_without_eating_following_comments():
    text = ROUND_TRIP["block-scalars.yaml"]
    out = _apply(text, "t.yaml", [SetValue(("Resources", "F", "Properties", "Description"), "short")])
    assert out.endswith("      Description: short\n")
    assert "              return 1\n\n\n      Description" in out


def test_multiline_string_written_as_literal_block():
    text = "Resources:\n  A:\n    Type: X\n"
    out = _apply(text, "t.yaml", [Insert(("Resources", "A"), "Code", "line1\nline2\n")])
    assert out == "Resources:\n  A:\n    Type: X\n    Code: |\n      line1\n      line2\n"


def test_literal_block_keeps_header_indentation_and_untouched_lines():
    text = ("Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code:\n"
            "        ZipFile: !Sub |   # handler\n            import os\n            import pymysql\n"
            "            \n            def handler(e, c):\n                return '${AWS::Region}'\n\n      Runtime: python3.12\n")
    doc = Document(text, "t.yaml")
    old = doc.data["Resources"]["F"]["Properties"]["Code"]["ZipFile"]["Fn::Sub"]
    new = old.replace("import pymysql\n", "")
    out = _apply(text, "t.yaml", [SetValue(("Resources", "F", "Properties", "Code", "ZipFile", "Fn::Sub"), new)])
    assert out == text.replace("            import pymysql\n", "")  # whitespace-only line kept too


def test_literal_block_strip_chomping_and_crlf():
    text = "Resources:\r\n  A:\r\n    Type: X\r\n    Properties:\r\n      Script: |-\r\n        one\r\n        two\r\n      Other: 1\r\n"
    out = _apply(text, "t.yaml", [SetValue(("Resources", "A", "Properties", "Script"), "one\nthree\ntwo")])
    assert out == text.replace("        one\r\n", "        one\r\n        three\r\n")


def test_new_multiline_sub_is_a_literal_block():
    text = "Resources:\n  A:\n    Type: X\n    Properties:\n      Name: !Ref N\n"
    out = _apply(text, "t.yaml", [Insert(("Resources", "A", "Properties"), "Code", {"Fn::Sub": "line ${N}\nline 2\n"})])
    assert out.endswith("      Code: !Sub |\n        line ${N}\n        line 2\n")


def test_replacing_the_only_key_of_a_sequence_item():
    text = "Rules:\n  - Dest: a\n  - Port: 1\n    Dest: b\n"
    out = _apply(text, "t.yaml", [Delete(("Rules", 0, "Dest")), Insert(("Rules", 0), "Cidr", "10.0.0.0/16")])
    assert out == "Rules:\n  - Cidr: 10.0.0.0/16\n  - Port: 1\n    Dest: b\n"
