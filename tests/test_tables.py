import pytest

from contraction.book import tables


def test_table_text_and_html():
    t = tables.table(
        [[1, 2.345678, "a"], [10, None, "b<c"]],
        columns=["n", "x", "s"],
        floatfmt=".3f",
        title="demo",
    )
    text = repr(t).splitlines()
    assert text[0] == "demo" and text[1].split() == ["n", "x", "s"]
    assert text[3].split() == ["1", "2.346", "a"] and text[4].split() == ["10", "b<c"]
    html = t._repr_html_()
    assert "<th>x</th>" in html and "<td>2.346</td>" in html and "b&lt;c" in html


def test_table_per_column_formats_and_bad_input():
    t = tables.table([[0.5, 0.5]], floatfmt=[".1f", ".2e"])
    assert repr(t).splitlines()[-1].split() == ["0.5", "5.00e-01"]
    with pytest.raises(ValueError, match="rows"):
        tables.table([])
    with pytest.raises(ValueError, match="rows"):
        tables.table([[1, 2], [3]])
    with pytest.raises(ValueError, match="columns"):
        tables.table([[1, 2]], columns=["a"])
    with pytest.raises(ValueError, match="floatfmt"):
        tables.table([[1.0, 2.0]], floatfmt=[".1f"])


def test_table_from_a_dict_of_rows():
    t = tables.table(
        {"W1": (0.5, 2), "W2": [float("inf"), None]},
        ["layer", "x", "n"],
        floatfmt=".3f",
    )
    lines = repr(t).splitlines()
    assert lines[0].split() == ["layer", "x", "n"]
    assert lines[2].split() == ["W1", "0.500", "2"] and lines[3].split() == [
        "W2",
        "inf",
    ]
    one = repr(tables.table({1: 0.25, float("inf"): "x"}, ["p", "gap"])).splitlines()
    assert one[2].split() == ["1", "0.25"] and one[3].split() == ["inf", "x"]
    with pytest.raises(ValueError, match="columns"):
        tables.table({"a": (1, 2)}, ["a", "b"])
