"""The server's parts that need no protocol: positions in the protocol's units, incremental
changes, the edits between two texts, editor settings, and the ignore comment's placement."""

from __future__ import annotations

import random

import pytest

from cfnfix.server.analysis import FIX, analyse, ignore_edit
from cfnfix.server.positions import UTF8, UTF16, UTF32, LineIndex, apply_change, apply_edits, text_edits
from cfnfix.server.project import EditorSettings, Project, Projects

TEXT = "a😀b\r\nc\rd\ne\u2028f\x85g"  # protocol lines: "a😀b", "c", "d", "e\u2028f\x85g"


@pytest.mark.parametrize("encoding, b, f, g", [(UTF16, 3, 2, 4), (UTF8, 5, 4, 7), (UTF32, 2, 2, 4)])
def test_positions_count_the_encodings_units_and_only_protocol_line_breaks(encoding, b, f, g):
    index = LineIndex(TEXT, encoding)
    assert index.position(TEXT.index("b")) == (0, b)
    assert index.position(TEXT.index("c")) == (1, 0)
    assert index.position(TEXT.index("d")) == (2, 0)
    # U+2028 and NEL break YAML lines, not the protocol's
    assert index.position(TEXT.index("f")) == (3, f)
    assert index.position(TEXT.index("g")) == (3, g)
    for offset in range(len(TEXT) + 1):
        if TEXT[offset - 1:offset + 1] == "\r\n":
            continue  # between \r and \n: no position
        assert index.offset(*index.position(offset)) == offset, offset


def test_positions_past_a_line_or_the_text_are_clamped():
    index = LineIndex("ab\ncd", UTF16)
    assert index.offset(0, 99) == 2  # the end of line 0, before its break
    assert index.offset(7, 0) == 5
    assert index.position(99) == (1, 2)
    assert index.position(2) == (0, 2)


def test_incremental_changes_apply_where_the_editor_means_them():
    # an edit after a U+2028 lands on the protocol's line 1, not Python's line 2
    text = "Description: a\u2028b\nValue: 1\n"
    assert apply_change(text, (1, 7), (1, 8), "2", UTF16) == "Description: a\u2028b\nValue: 2\n"
    # an emoji counts two UTF-16 units
    assert apply_change("x: 😀y\n", (0, 5), (0, 6), "z", UTF16) == "x: 😀z\n"
    # no range: the whole text
    assert apply_change("old", None, None, "new") == "new"


def test_text_edits_make_the_new_text_and_keep_to_the_changed_lines():
    rng = random.Random(4)
    lines = [f"  Key{i}: value{i}\n" for i in range(40)]
    for ending in ("\n", "\r\n"):
        base = [line.replace("\n", ending) for line in lines]
        for _ in range(60):
            new = list(base)
            for _ in range(rng.randint(1, 4)):
                i = rng.randrange(len(new))
                choice = rng.random()
                if choice < 0.3:
                    del new[i]
                elif choice < 0.6:
                    new.insert(i, f"  Added{i}: x{ending}")
                else:
                    new[i] = new[i].replace("value", "VALUE")
            old_text, new_text = "".join(base), "".join(new)
            if rng.random() < 0.2:
                new_text = new_text.rstrip("\r\n")  # the last line break goes
            edits = text_edits(old_text, new_text)
            assert apply_edits(old_text, edits) == new_text
            assert all(s == 0 or old_text[s - 1] == "\n" for s, _e, _r in edits)  # whole lines
    assert text_edits("same\n", "same\n") == []
    assert text_edits("a\nb\nc\n", "a\nB\nc\n") == [(2, 4, "B\n")]


def test_editor_settings_accept_the_shapes_clients_send():
    s = EditorSettings()
    assert s.updated({"cfnfix": {"unsafeFixes": True}}).unsafe_fixes is True
    assert s.updated({"settings": {"unsafe-fixes": True, "validator": "none"}}) == EditorSettings(True, "none")
    assert s.updated({"unsafeFixes": "yes", "validator": "bogus"}) == s  # wrong types and values are ignored
    assert s.updated(None) == s


YAML = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  # cfnfix: ignore[PROP001]
  TopicArn:
    Value: !Ref Topic
    Export: {}
"""
FLOW = """\
Resources:
  Topic: {Type: AWS::SNS::Topic}
Outputs: {Flow: {Value: !Ref Topic, Export: {}}}
"""


def test_the_ignore_comment_joins_one_already_there_and_is_never_placed_where_it_cannot_work():
    analysis = analyse(YAML, "t.yaml", Projects().for_path(None))
    items = {i.path[1]: i for i in analysis.items if i.kind == FIX}
    start, end, new = ignore_edit(analysis, items["TopicArn"])
    assert YAML[start:end] == "  # cfnfix: ignore[PROP001]" and new == "  # cfnfix: ignore[PROP001, OUT001]"
    # a key that does not start its line (flow style) gets no comment: it would not be its own
    analysis = analyse(FLOW, "t.yaml", Projects().for_path(None))
    (fix,) = [i for i in analysis.items if i.kind == FIX]
    assert fix.entry == ("Outputs", "Flow") and ignore_edit(analysis, fix) is None
    json_text = '{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"A": {"Value": {"Ref": "T"}, "Export": {}}}}'
    analysis = analyse(json_text, "t.json", Project(fixers=analysis.project.fixers))
    (fix,) = [i for i in analysis.items if i.kind == FIX]
    assert ignore_edit(analysis, fix) is None  # JSON has no comments


def test_line_starts_moved_by_changes_are_the_ones_found_again():
    """A keystroke moves the line starts it does not touch (cfnfix.text.lines) rather than
    searching a large text again; the result is exactly a fresh index's, CR/LF pairs that an
    edit joins or splits included."""
    import random

    rng = random.Random(11)
    for _ in range(4000):
        text = "".join(rng.choice(["a", "\n", "\r", "\r\n", "é", "😀"]) for _ in range(rng.randint(0, 12)))
        index = LineIndex(text, UTF16)
        for _ in range(3):
            a, b = sorted((rng.randint(0, len(index.text)), rng.randint(0, len(index.text))))
            new = "".join(rng.choice(["b", "\n", "\r", "\r\n"]) for _ in range(rng.randint(0, 3)))
            start, end = index.position(a), index.position(b)
            index = index.changed(start, end, new)
            fresh = LineIndex(index.text, UTF16)
            assert index.starts == fresh.starts, (text, index.text)
