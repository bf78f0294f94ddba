"""The shared JSONL reader: line numbers, blank lines, bad lines kept with their exception."""

from __future__ import annotations

import json

from trucewatch._jsonl import BadLine, json_lines


def test_numbers_lines_and_skips_blanks():
    got = list(json_lines(['{"a": 1}\n', "\n", "  \t\n", "[2]\n"]))
    assert got == [(1, {"a": 1}), (4, [2])]


def test_bad_json_is_named_by_line_and_reading_goes_on():
    got = list(json_lines(['{"a": 1}', '  {"a": ', "3"]))
    assert got[0] == (1, {"a": 1}) and got[2] == (3, 3)
    n, bad = got[1]
    assert n == 2 and isinstance(bad, BadLine) and isinstance(bad.error, json.JSONDecodeError)
    assert bad.error.colno == 9  # columns count from the start of the line as given


def test_bytes_are_strict_utf8_and_blank_before_decoding():
    got = list(json_lines([b'{"a": "\xc3\xa9"}\n', b"\xff{}\n", b"   \n", b"\x1c\n"]))
    assert got[0] == (1, {"a": "é"})
    assert got[1][0] == 2 and isinstance(got[1][1].error, UnicodeDecodeError) and got[1][1].error.start == 0
    # \x1c is whitespace to str.strip but not to bytes.strip: not blank, so a JSON error, never a silent drop
    assert got[2][0] == 4 and isinstance(got[2][1].error, json.JSONDecodeError)
    assert len(got) == 3
