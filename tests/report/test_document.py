from ldnn_tune.report.build import StudyReport
from ldnn_tune.report.document import html_document, markdown_document, markdown_html
from ldnn_tune.report.figures import Plot

SUMMARY = """**Study `x`**: a <b> test.

```
ldnn-tune run task=x
```

## Best trials

| trial | val_loss |
| --- | --- |
| 3 | 0.1 |

- a note
"""


def report() -> StudyReport:
    plot = Plot("slice", "Slice", b"\x89PNGfake", None)
    return StudyReport("d", SUMMARY, "number\n", "cmd", ["lr"], [plot])


def test_the_markdown_subset_becomes_html() -> None:
    page = markdown_html(SUMMARY)
    assert "<p><strong>Study <code>x</code></strong>: a &lt;b&gt; test.</p>" in page
    assert "<pre><code>ldnn-tune run task=x</code></pre>" in page
    assert "<h2>Best trials</h2>" in page
    assert "<th>trial</th><th>val_loss</th>" in page and "<td>3</td><td>0.1</td>" in page
    assert "<ul><li>a note</li></ul>" in page


def test_the_html_report_holds_its_images_inline() -> None:
    page = html_document(report(), "Study x")
    assert page.startswith("<!DOCTYPE html>")
    assert 'src="data:image/png;base64,iVBOR' in page
    assert "<figcaption>Slice</figcaption>" in page


def test_the_markdown_report_links_the_images_beside_it() -> None:
    text, files = markdown_document(report(), "Study x", "x_plots")
    assert text.startswith("# Study x\n")
    assert "![Slice](x_plots/slice.png)" in text
    assert files == {"slice.png": b"\x89PNGfake"}
