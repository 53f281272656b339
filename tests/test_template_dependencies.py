"""Template.dependency_graph, waits_for and add_dependencies: the order CloudFormation creates
resources in, and how a DependsOn entry is added in each form the key takes."""

from __future__ import annotations

from cfnfix.cloudformation import Template
from cfnfix.text.document import Document
from cfnfix.text.edits import apply_to_data
from cfnfix.text.splice import resolve, splice

YAML = """\
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyDocument:
            Statement:
              - Resource: !Sub "${Bucket.Arn}/*"
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
  Alone:
    Type: AWS::SNS::Topic
  Listed:
    Type: AWS::SNS::Topic
    DependsOn: [Alone]
  Named:
    Type: AWS::SNS::Topic
    DependsOn: Alone
"""


def tpl() -> Template:
    return Template(Document(YAML, "t.yaml"))


def test_waits_for_follows_sub_getatt_and_dependson_chains():
    t = tpl()
    assert t.waits_for("Function", "Bucket")  # Function -> Role (GetAtt) -> Bucket (Sub)
    assert not t.waits_for("Bucket", "Function")
    assert t.waits_for("Listed", "Alone") and t.waits_for("Named", "Alone")
    assert not t.waits_for("Alone", "Alone")
    assert t.waits_for("Bucket", "Alone", extra={"Bucket": {"Named"}})  # through an edge about to be added
    assert t.dependency_graph["Role"] == {"Bucket"}


def _apply(edits):
    doc = Document(YAML, "t.yaml")
    out = splice(YAML, resolve(doc, edits))
    data = Document(out, "t.yaml").data
    assert data == apply_to_data(doc.data, edits)
    return data["Resources"]


def test_add_dependencies_in_each_form():
    t = tpl()
    res = _apply(t.add_dependencies("Alone", ["Bucket"]) + t.add_dependencies("Listed", ["Bucket", "Alone"])
                 + t.add_dependencies("Named", ["Role", "Bucket"]) + t.add_dependencies("Function", ["Bucket", "Alone"]))
    assert res["Alone"]["DependsOn"] == "Bucket"  # a single new entry stays a string
    assert res["Listed"]["DependsOn"] == ["Alone", "Bucket"]  # entries already there are not repeated
    assert res["Named"]["DependsOn"] == ["Alone", "Role", "Bucket"]
    assert res["Function"]["DependsOn"] == ["Bucket", "Alone"]
    assert list(res["Function"]) == ["Type", "DependsOn", "Properties"]
    assert t.add_dependencies("Named", ["Alone"]) == []


def test_conditions_orphaned_by_a_removed_value():
    text = """\
Conditions:
  IsProd: !Equals [!Ref AWS::AccountId, "111122223333"]
  BigProd: !And [!Condition IsProd, !Equals [!Ref AWS::Region, us-east-1]]
  Elsewhere: !Equals [!Ref AWS::Region, eu-west-1]
  Unused: !Equals [a, b]
Resources:
  F:
    Type: AWS::Lambda::Function
    Properties:
      ReservedConcurrentExecutions: !If [BigProd, 10, !Ref AWS::NoValue]
      MemorySize: !If [Elsewhere, 256, 128]
"""
    t = Template(Document(text, "t.yaml"))
    removed = [("Resources", "F", "Properties", "ReservedConcurrentExecutions")]
    assert t.conditions_orphaned_by(removed) == ["BigProd", "IsProd"]  # IsProd only served BigProd
    assert t.conditions_orphaned_by([("Resources", "F", "Properties", "MemorySize")]) == ["Elsewhere"]
