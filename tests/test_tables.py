import pytest

from contraction.book import tables


def test_table_text_and_html():
    t = tables.table([[1, 2.345678, "a"], [10, None, "b<c"]], columns=["n", "x", "s"],
                     floatfmt=".3f", title="demo")
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
