"""The auditor's HTML report, rendered from archives and checked as the element tree a browser
builds (tests/history/html_dom.py): summary first, contents linking every resource, one shared
time axis, per-item changes colour-coded with substantive fields first and added subtrees as one
row, the whole decoded item under "configuration at this point", nothing only in a tooltip, no
value broken inside a word, self-contained."""

from __future__ import annotations

import json
import re

import pytest

from tests.history import archive
from tests.history.html_dom import parse


def render(run_cli, root, *args) -> tuple[str, object]:
    code, out, err = run_cli("--source", str(root), "--format", "html", *args)
    assert code in (0, 1), err
    return out, parse(out)


@pytest.fixture
def grounding_dir(tmp_path):
    """The sample archive plus a guardrail change that adds a whole subtree (a contextual
    grounding check with two filters) and a tag."""
    later = archive.guardrail("2025-03-03T17:00:00", "This request is blocked by policy.")
    later["configuration"]["ContextualGroundingPolicyConfig"] = {
        "FiltersConfig": [
            {"Type": "GROUNDING", "Threshold": 0.8},
            {"Type": "RELEVANCE", "Threshold": 0.7},
        ]
    }
    later["tags"] = {"owner": "safety"}
    files = {
        **archive.good_files(),
        **dict(
            [
                archive.history(
                    archive.OTHER,
                    "AWS::Bedrock::Guardrail",
                    "2025-03-03T16:00:00",
                    "2025-03-03T18:00:00",
                    [later],
                    sequence=2,
                )
            ]
        ),
    }
    archive.write_dir(tmp_path, files)
    return tmp_path


def test_summary_comes_first_then_contents_then_timelines(run_cli, good_dir):
    _, dom = render(run_cli, good_dir)
    body = dom.find("body")
    blocks = [(n.tag, n.attrs.get("id")) for n in body.elements()]
    assert blocks == [
        ("header", None),
        ("section", "summary"),
        ("nav", "contents"),
        ("section", "timelines"),
    ]
    summary = dom.find("section", id="summary")
    assert summary.find("h2").text() == "Summary"
    lead = " ".join(summary.find("p", cls="lead").text().split())
    assert lead.startswith("4 of 4 resources changed (8 field changes in 9 configuration items)")
    headings = [h.text() for h in summary.find_all("h3")]
    assert headings == ["By account", "By resource type", "Recording coverage", "Scan"]
    by_type = summary.find_all("table")[1]
    rows = [[td.text() for td in tr.find_all("td")] for tr in by_type.find("tbody").elements()]
    assert ["AWS::SageMaker::Model", "1", "1", "3", "4"] in rows


def test_contents_link_every_resource_and_every_link_resolves(run_cli, good_dir):
    _, dom = render(run_cli, good_dir)
    ids = {node.attrs["id"] for node in dom.iter() if "id" in node.attrs}
    links = [a.attrs["href"] for a in dom.find_all("a")]
    assert links and all(href.startswith("#") for href in links)  # nothing fetched or left
    assert {href[1:] for href in links} <= ids
    articles = dom.find_all("article", cls="resource")
    assert len(articles) == 4
    toc = {a.attrs["href"][1:] for a in dom.find("nav", id="contents").find_all("a")}
    assert {article.attrs["id"] for article in articles} <= toc
    entry = next(li for li in dom.find("nav").find_all("li") if "churn-model" in li.text())
    assert "3 items, 4 field changes, last: deleted or no longer recorded" in entry.text()


def test_every_chart_shares_one_time_axis(run_cli, good_dir):
    _, dom = render(run_cli, good_dir, "--since", "2025-03-01", "--until", "2025-03-05")
    charts = dom.find_all("svg")
    assert len(charts) == 4
    axes = {
        tuple((t.attrs["x"], t.text()) for t in svg.find_all("text", cls="tick")) for svg in charts
    }
    assert len(axes) == 1
    [axis] = axes
    assert next(label for _, label in axis) == "2025-03-01" and axis[-1][1] == "2025-03-05"
    # Without a window the axis spans the items; ticks never repeat a label.
    _, whole = render(run_cli, good_dir)
    labels = [t.text() for t in whole.find("svg").find_all("text", cls="tick")]
    assert len(set(labels)) == len(labels) == 5

    # Placement is on that axis: the guardrail's dots (March 3rd) sit right of the model's first.
    def dots(resource_id):
        article = next(a for a in dom.find_all("article") if resource_id in a.find("h4").text())
        return [float(c.attrs["cx"]) for c in article.find_all("circle", cls="item")]

    model, guardrail = dots("churn-model"), dots("gr-abc123")
    assert model == sorted(model) and model[0] < guardrail[0] < model[-1]


def test_changes_are_grouped_per_item_colour_coded_substantive_first(run_cli, grounding_dir):
    _html, dom = render(run_cli, grounding_dir)
    style = dom.find("style").text()
    for kind in ("added", "removed", "changed"):
        assert re.search(rf"tr\.{kind} td\{{background:#[0-9a-f]{{6}}\}}", style), kind
    model = next(a for a in dom.find_all("article") if "churn-model" in a.find("h4").text())
    items = model.find_all("div", cls="item")
    assert [sorted(i.classes - {"item"}) for i in items] == [
        ["first-recorded"],
        ["changed"],
        ["gone"],
    ]
    rows = items[1].find("table", cls="changes").find("tbody").elements()
    fields = [r.find("td", cls="field").text() for r in rows]
    assert fields == [
        "configuration.EnableNetworkIsolation",
        "configuration.PrimaryContainer.Image",
        "tags.owner",
        "tags.stage",
    ]
    kinds = [(sorted(r.classes), r.find("td", cls="kind").text()) for r in rows]
    assert kinds[0] == (["changed"], "~ changed") and kinds[-1] == (["added"], "+ added")
    # An added subtree is one row holding the subtree, not one row per leaf.
    guardrail = next(a for a in dom.find_all("article") if "gr-abc123" in a.find("h4").text())
    last = guardrail.find_all("div", cls="item")[-1]
    rows = last.find("table", cls="changes").find("tbody").elements()
    fields = [r.find("td", cls="field").text() for r in rows]
    assert fields == ["configuration.ContextualGroundingPolicyConfig", "tags.owner"]
    added = rows[0].find("td", cls="after")
    assert "4 fields" in added.text()
    assert json.loads(added.find("pre").text())["FiltersConfig"][1]["Type"] == "RELEVANCE"


def test_every_item_has_its_whole_decoded_configuration(run_cli, good_dir):
    _, dom = render(run_cli, good_dir, "--all-types")
    for article in dom.find_all("article", cls="resource"):
        resource_id = article.find("h4").find("code").text()
        for block in article.find_all("div", cls="item"):
            [details] = block.find_all("details")
            assert details.find("summary").text() == "Configuration at this point"
            item = json.loads(details.find("pre").text())
            assert item["resourceId"] == resource_id
            assert {"configurationItemCaptureTime", "configurationItemVersion", "ARN"} <= set(item)
    role = next(a for a in dom.find_all("article") if "AROAEXAMPLEROLE" in a.text())
    item = json.loads(role.find_all("details")[-1].find("pre").text())
    # The URL-encoded trust policy, decoded for reading.
    assert item["configuration"]["assumeRolePolicyDocument"]["Statement"][0]["Action"] == [
        "sts:AssumeRole",
        "sts:TagSession",
    ]


def test_the_state_before_the_window_is_shown_in_full(run_cli, good_dir):
    _, dom = render(run_cli, good_dir, "--since", "2025-03-02", "--until", "2025-03-03")
    model = next(a for a in dom.find_all("article") if "churn-model" in a.find("h4").text())
    baseline = model.find("div", cls="baseline")
    assert "Before the window: 2025-03-01 10:00:00 UTC" in baseline.find("h5").text()
    assert (
        json.loads(baseline.find("pre").text())["configurationItemStatus"] == "ResourceDiscovered"
    )


def test_nothing_lives_only_in_a_tooltip(run_cli, good_dir):
    _html, dom = render(run_cli, good_dir)
    assert not [n for n in dom.iter() if "title" in n.attrs]  # no title attributes at all
    for article in dom.find_all("article", cls="resource"):
        headings = " ".join(h.text() for h in article.find_all("h5"))
        for title in article.find("svg").find_all("title"):
            when = title.text().split(": ")[0]
            if when != "state before the window":
                assert when in headings


def test_values_break_only_after_separators_never_inside_a_word(run_cli, good_dir):
    html, dom = render(run_cli, good_dir)
    style = dom.find("style").text()
    assert "break-all" not in style and "anywhere" not in style
    assert "word-break:normal" in style and "overflow-wrap:normal" in style
    assert "<wbr>" in html
    assert not re.search(r"[A-Za-z0-9]<wbr>[A-Za-z0-9]", html)
    arn = next(c for c in dom.find_all("code") if c.text().startswith("arn:aws:sagemaker"))
    assert arn.text() == f"arn:aws:sagemaker:us-east-1:{archive.ACCOUNT}:churn-model"


def test_printable(run_cli, good_dir):
    _, dom = render(run_cli, good_dir)
    style = dom.find("style").text()
    printing = style[style.index("@media print") :]
    assert "details::details-content{content-visibility:visible" in printing
    assert "nav#contents{break-after:page}" in printing


def test_self_contained(run_cli, good_dir):
    html, dom = render(run_cli, good_dir)
    tags = {node.tag for node in dom.iter()}
    assert not {"script", "link", "img", "iframe", "object", "embed"} & tags
    assert not [n for n in dom.iter() if "src" in n.attrs]
    assert "@import" not in html and "url(" not in html


def test_skipped_files_are_in_the_summary(run_cli, tmp_path):
    archive.write_dir(tmp_path, {**archive.good_files(), **archive.bad_files()})
    _, dom = render(run_cli, tmp_path)
    summary = dom.find("section", id="summary")
    skipped = summary.find("h3", cls="skipped")
    assert skipped.text() == "Skipped (7)"
    assert "corrupt gzip" in summary.text()
