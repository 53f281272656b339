"""The template model: reference graph in every form, and removal with every reference."""

from __future__ import annotations

from cfnfix.text.document import Document
from cfnfix.text.edits import EditError, apply_to_data
from cfnfix.text.splice import resolve, splice
from cfnfix.cloudformation import Template

import pytest

YAML = """\
AWSTemplateFormatVersion: "2010-09-09"
Metadata:
  AWS::CloudFormation::Interface:
    ParameterGroups:
      - Label: {default: Database}
        Parameters: [DbUser, DbPass]
      - Label: {default: Only password}
        Parameters:
          - DbPass
    ParameterLabels:
      DbPass: {default: Password}
      DbUser: {default: User}
Parameters:
  DbUser: {Type: String}
  DbPass: {Type: String, NoEcho: true}
Rules:
  PassLength:
    Assertions:
      - Assert: !Not [!Equals [!Ref DbPass, ""]]
Conditions:
  HasPass: !Not [!Equals [!Ref DbPass, ""]]
  AlsoPass: !And [!Condition HasPass, !Equals [a, a]]
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      MasterUsername: !Ref DbUser
      MasterUserPassword: !Ref DbPass
  Topic:
    Type: AWS::SNS::Topic
    DependsOn: [Db, Queue]
    Properties:
      DisplayName: !Sub "${Db.Endpoint.Address}-${Queue}-${!Literal}-${AWS::Region}"
  Queue:
    Type: AWS::SQS::Queue
    DependsOn: Db
    Properties:
      QueueName:
        Fn::GetAtt: [Db, Endpoint.Port]
      DelaySeconds: !Sub
        - "${X}"
        - X: !GetAtt Db.Endpoint.Port
Outputs:
  DbAddress:
    Value: !GetAtt Db.Endpoint.Address
  TopicArn:
    Value: !Ref Topic
"""


def tpl():
    return Template(Document(YAML, "t.yaml"))


def test_references_cover_every_form():
    refs = {(r.path, r.target, r.kind, r.attribute) for r in tpl().references}
    assert (("Resources", "Db", "Properties", "MasterUserPassword"), "DbPass", "Ref", None) in refs
    assert (("Resources", "Topic", "DependsOn", 0), "Db", "DependsOn", None) in refs
    assert (("Resources", "Queue", "DependsOn"), "Db", "DependsOn", None) in refs
    assert (("Resources", "Topic", "Properties", "DisplayName"), "Db", "Sub", "Endpoint.Address") in refs
    assert (("Resources", "Topic", "Properties", "DisplayName"), "Queue", "Sub", None) in refs
    assert (("Resources", "Queue", "Properties", "QueueName"), "Db", "GetAtt", "Endpoint.Port") in refs
    assert (("Outputs", "DbAddress", "Value"), "Db", "GetAtt", "Endpoint.Address") in refs
    assert (("Conditions", "AlsoPass", "Fn::And", 0), "HasPass", "Condition", None) in refs
    targets = {r.target for r in tpl().references}
    assert "Literal" not in targets and "!Literal" not in targets and "X" not in targets
    assert "AWS::Region" in targets  # pseudo parameters are references too; callers filter


def _apply(edits):
    doc = Document(YAML, "t.yaml")
    out = splice(YAML, resolve(doc, edits))
    assert Document(out, "t.yaml").data == apply_to_data(doc.data, edits)
    return out, Document(out, "t.yaml").data


def test_remove_parameter_cleans_interface_rules_conditions():
    t = tpl()
    replaced = t.replace_references("DbPass", "x")
    edits = replaced + t.remove("DbPass", handled=replaced)
    out, data = _apply(edits)
    meta = data["Metadata"]["AWS::CloudFormation::Interface"]
    assert meta["ParameterGroups"] == [{"Label": {"default": "Database"}, "Parameters": ["DbUser"]}]
    assert meta["ParameterLabels"] == {"DbUser": {"default": "User"}}
    assert "Rules" not in data or "PassLength" not in data["Rules"]
    assert "Conditions" not in data  # both conditions tested the password: the section goes
    assert "DbPass" not in data["Parameters"]
    assert data["Resources"]["Db"]["Properties"]["MasterUserPassword"] == "x"


def test_remove_refuses_when_a_property_still_refers():
    with pytest.raises(EditError, match="still used at Resources/Db/Properties/MasterUserPassword"):
        tpl().remove("DbPass")


def test_remove_resource_drops_dependson_and_outputs():
    t = tpl()
    with pytest.raises(EditError):
        t.remove("Queue")  # Topic's DisplayName uses ${Queue}
    out, data = _apply(t.remove("Topic"))
    assert "Topic" not in data["Resources"] and "TopicArn" not in data["Outputs"]
    assert data["Outputs"] == {"DbAddress": {"Value": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}}}


def test_remove_dependson_entries_of_a_removed_resource():
    text = "Resources:\n  A: {Type: X}\n  B:\n    Type: X\n    DependsOn: [A, C]\n  C:\n    Type: X\n    DependsOn: A\n"
    t = Template(Document(text, "t.yaml"))
    doc = Document(text, "t.yaml")
    out = splice(text, resolve(doc, t.remove("A")))
    assert out == "Resources:\n  B:\n    Type: X\n    DependsOn: [C]\n  C:\n    Type: X\n"


def test_add_entries_create_missing_sections_in_order():
    text = 'AWSTemplateFormatVersion: "2010-09-09"\nDescription: d\nResources:\n  A:\n    Type: X\n'
    t = Template(Document(text, "t.yaml"))
    doc = Document(text, "t.yaml")
    edits = [t.add_parameter("Bucket", {"Type": "String"}), t.add_output("Out", {"Value": {"Ref": "A"}})]
    out = splice(text, resolve(doc, edits))
    assert out == ('AWSTemplateFormatVersion: "2010-09-09"\nDescription: d\nParameters:\n  Bucket:\n    Type: String\n'
                   "Resources:\n  A:\n    Type: X\nOutputs:\n  Out:\n    Value: !Ref A\n")


def test_unique_id():
    t = tpl()
    assert t.unique_id("Db") == "Db2" and t.unique_id("New-Thing") == "NewThing"


def test_long_and_short_forms_read_alike():
    short = Template(Document("Resources:\n  A:\n    Type: X\n    Properties:\n      P: !GetAtt B.Arn\n      Q: !Ref C\n", "t.yaml"))
    long = Template(Document('{"Resources": {"A": {"Type": "X", "Properties": {"P": {"Fn::GetAtt": "B.Arn"}, "Q": {"Ref": "C"}}}}}', "t.json"))
    assert short.data == long.data


def test_top_level_keys_go_in_section_order():
    text = "# stack\nResources:\n  A:\n    Type: X\nOutputs:\n  O:\n    Value: 1\n"
    t = Template(Document(text, "t.yaml"))
    doc = Document(text, "t.yaml")
    out = splice(text, resolve(doc, [t.add_top_level("Transform", "AWS::Serverless-2016-10-31"), t.add_parameter("P", {"Type": "String"})]))
    assert out == ("Transform: AWS::Serverless-2016-10-31\nParameters:\n  P:\n    Type: String\n# stack\n"
                   "Resources:\n  A:\n    Type: X\nOutputs:\n  O:\n    Value: 1\n")
    j = '{\n  "Resources": {"A": {"Type": "X"}}\n}\n'
    t = Template(Document(j, "t.json"))
    out = splice(j, resolve(Document(j, "t.json"), [t.add_top_level("Transform", "X")]))
    assert out == '{\n  "Transform": "X",\n  "Resources": {"A": {"Type": "X"}}\n}\n'


def test_add_entries_makes_one_section_for_several_new_entries():
    text = "Resources:\n  A:\n    Type: X\n"
    t = Template(Document(text, "t.yaml"))
    edits = t.add_entries("Parameters", {"P": {"Type": "String"}, "Q": {"Type": "Number"}})
    out = splice(text, resolve(Document(text, "t.yaml"), edits))
    assert out == "Parameters:\n  P:\n    Type: String\n  Q:\n    Type: Number\nResources:\n  A:\n    Type: X\n"
    text = "Parameters:\n  O:\n    Type: String\nResources:\n  A:\n    Type: X\n"
    t = Template(Document(text, "t.yaml"))
    out = splice(text, resolve(Document(text, "t.yaml"), t.add_entries("Parameters", {"P": {"Type": "String"}, "Q": {"Type": "Number"}})))
    assert out == ("Parameters:\n  O:\n    Type: String\n  P:\n    Type: String\n  Q:\n    Type: Number\n"
                   "Resources:\n  A:\n    Type: X\n")
    assert t.add_entries("Parameters", {}) == []
