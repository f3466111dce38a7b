"""summary()'s warm-start rows wrap between words, never between a number and its unit
("0.9" at the end of one line, "s of the 1.8 s left" on the next)."""

import re

from metaopt.estimators._report import _WIDTH, _columns, _item

UNIT_AT_START = re.compile(r"^\s*(s|ms|min|h|%|[kMG]?B)\b")
NUMBER_AT_END = re.compile(r"\d$")


def _rows(pad: int) -> list[tuple[str, str, str, str]]:
    reason = ("portfolio pick 2 of 5" + " x" * pad + "; 3 of 8 skipped as predicted to "
              "take over 0.9 s of the 1.8 s left, 12 % of the rows (3.5 MB) in 10 ms")
    return [("trial 0:", "hist_gradient_boosting", "score 0.9561", reason),
            ("trial 1:", "random_forest", "not run: the time budget was spent before "
             "it started", "ranker adapted on 1 evaluation" + " y" * pad)]


def test_a_number_keeps_its_unit_on_its_line():
    breaks = 0
    for pad in range(60):  # every position of the units relative to the line's end
        lines = _columns(_rows(pad))
        assert all(len(line) <= _WIDTH for line in lines)
        for before, after in zip(lines, lines[1:], strict=False):
            breaks += 1
            assert not (NUMBER_AT_END.search(before) and UNIT_AT_START.match(after)), (
                f"number and unit split across lines:\n{before}\n{after}")
        text = " ".join(line.strip() for line in lines)
        # the words and their spaces are kept (no no-break space left in the output)
        assert "0.9 s of the 1.8 s left, 12 % of the rows (3.5 MB) in 10 ms" in text
        assert "\N{NO-BREAK SPACE}" not in text
    assert breaks > 60  # the reasons did wrap


def test_short_reasons_stay_beside_their_outcome():
    lines = _columns([("trial 0:", "knn", "score 0.9000", "0.9 s of the 1.8 s left")])
    assert lines == ["  trial 0: knn  score 0.9000  0.9 s of the 1.8 s left"]


def test_the_head_s_items_keep_a_number_with_its_unit():
    for pad in range(60):
        text = ("x" * pad + " the refit took 12.5 s of the 30 s budget; 3.5 MB of 12 % of"
                " the rows, 250 ms a fold") * 2
        lines = _item("note: ", text)
        assert all(len(line) <= _WIDTH for line in lines)
        for before, after in zip(lines, lines[1:], strict=False):
            assert not (NUMBER_AT_END.search(before) and UNIT_AT_START.match(after)), (
                f"number and unit split across lines:\n{before}\n{after}")
        assert " ".join(line.strip() for line in lines) == "note: " + text
