"""Each input format, including the odd inputs real archives contain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.errors import ParseError
from embeddings.ingest.articles import discover, lead_title, normalize_date, parse_file

from .helpers import DATA, WANG_YI_UN, write


def test_azernews_text_keeps_date_derives_title_and_drops_footer() -> None:
    [article] = parse_file(DATA / "000_ce1b1adc1bd8e6a9.txt").articles
    assert article.id == "000_ce1b1adc1bd8e6a9"
    assert article.date == "2023-02-22"
    assert article.title.startswith("The People’s Republic of China is ready to join forces")
    assert len(article.title) <= 91
    assert article.title.endswith("…")
    assert article.paragraphs[-1] == WANG_YI_UN
    assert not any("Follow us" in p for p in article.paragraphs)
    assert article.source == "@AzerNewsAz"
    assert len(article.paragraphs) == 6


def test_plain_text_header_lines_are_optional_and_can_name_title_url_source(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "a.txt",
        "title Budget passes\nurl https://example.org/a\nsource Example Daily\n"
        "date 2024-03-01\n\nThe budget passed on Friday.\n\nIt takes effect in April.\n",
    )
    [article] = parse_file(path).articles
    assert (article.title, article.url, article.source, article.date) == (
        "Budget passes",
        "https://example.org/a",
        "Example Daily",
        "2024-03-01",
    )
    assert article.paragraphs == ("The budget passed on Friday.", "It takes effect in April.")


def test_plain_text_without_header_uses_lead_sentence_and_no_date(tmp_path: Path) -> None:
    [article] = parse_file(write(tmp_path, "b.txt", "Rain fell. More rain.\n")).articles
    assert (article.title, article.date) == ("Rain fell.", None)


def test_markdown_front_matter_links_bullets_and_emphasis(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2025/a.md",
        "---\n"
        'title: "Remarks by the\\_President"\n'
        "date: '2025-02-10'\n"
        "source_url: https://www.whitehouse.gov/a/\n"
        "---\n \n"
        "The [Consumer Financial\n    Protection Bureau](https://x.org/a_(b)) has **long** "
        "functioned\n"
        "as *another* arm.\n\n"
        "-   **CFPB**\n    [**used**](https://e.org) its ***slush*** fund.\n"
        "-   Second bullet with `code` and ![img](p.png) an image.\n\n"
        "<!-- -->\n\n"
        "## A heading\n\n"
        "<table><tr><td>Cell one</td><td>Cell two</td></tr></table>\n",
    )
    [article] = parse_file(path, "2025/a").articles
    assert article.title == "Remarks by the President"  # YAML's "\_" is a no-break space
    assert article.date == "2025-02-10"
    assert article.url == "https://www.whitehouse.gov/a/"
    assert article.id == "2025/a"
    assert article.paragraphs == (
        "The Consumer Financial Protection Bureau has long functioned as another arm.",
        "CFPB used its slush fund.",
        "Second bullet with code and an image.",
        "A heading",
        "Cell one Cell two",
    )


def test_markdown_without_front_matter_takes_its_first_heading_as_title(tmp_path: Path) -> None:
    [article] = parse_file(write(tmp_path, "n.md", "# Storm hits coast\n\nWinds rose.\n")).articles
    assert (article.title, article.paragraphs) == ("Storm hits coast", ("Winds rose.",))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ntitle: [unclosed\n---\nBody.\n", "front matter is not valid YAML"),
        ("Body without any title.\n", "no title"),
        ("---\ntitle: T\n---\n\n", "no paragraphs"),
    ],
)
def test_broken_markdown_is_rejected_with_a_reason(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_file(write(tmp_path, "bad.md", text))


def test_json_lines_keep_metadata_and_skip_broken_records_with_their_line(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "title": "A", "date": "2024-05-01", "url": "https://u.example/a",
                    "source": "S", "license": "CC BY 2.5", "paragraphs": ["One.", "Two."]}),
        "{not json",
        json.dumps({"id": "b", "text": "First para.\n\nSecond para."}),
        json.dumps({"id": "c", "paragraphs": []}),
        json.dumps(["not", "an", "object"]),
        "",
    ]  # fmt: skip
    parsed = parse_file(write(tmp_path, "feed.jsonl", "\n".join(lines)))
    a, b = parsed.articles
    assert (a.id, a.title, a.date, a.url, a.source, a.license) == (
        "a", "A", "2024-05-01", "https://u.example/a", "S", "CC BY 2.5",
    )  # fmt: skip
    assert b.paragraphs == ("First para.", "Second para.")
    assert b.title == "First para."
    assert parsed.problems == [
        "line 2: invalid JSON (Expecting property name enclosed in double quotes, column 2)",
        "line 4: no paragraphs of text",
        "line 5: not a JSON object",
    ]


def test_json_file_may_hold_one_article_a_list_or_an_articles_key(tmp_path: Path) -> None:
    one = {"id": "x", "title": "X", "paragraphs": ["Text."]}
    for name, payload in [
        ("one.json", one),
        ("list.json", [one]),
        ("wrap.json", {"articles": [one]}),
    ]:
        assert [a.id for a in parse_file(write(tmp_path, name, json.dumps(payload))).articles] == [
            "x"
        ]


def test_html_page_takes_metadata_and_article_body_only(tmp_path: Path) -> None:
    page = """<!doctype html><html><head><title>Site | Story</title>
    <meta property="og:title" content="Floods &amp; storms">
    <meta property="article:published_time" content="2024-06-02T10:00:00Z">
    <meta property="og:site_name" content="Example News">
    <link rel="canonical" href="https://example.org/floods"></head>
    <body><nav><p>Home | World</p></nav><header><p>Subscribe</p></header>
    <article><h1>Floods &amp; storms</h1><p>Rivers rose <b>fast</b> on Sunday.</p>
    <script>var x = 1;</script><p>Towns were evacuated.</p></article>
    <footer><p>© Example</p></footer></body></html>"""
    [article] = parse_file(write(tmp_path, "floods.html", page)).articles
    assert (article.title, article.date, article.url, article.source) == (
        "Floods & storms",
        "2024-06-02",
        "https://example.org/floods",
        "Example News",
    )
    assert article.paragraphs == ("Rivers rose fast on Sunday.", "Towns were evacuated.")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("a.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
        ("a.txt", b"\x00\x01\x02binary", "binary file"),
        ("a.txt", "caf\u00e9".encode("latin-1"), "not UTF-8"),
        ("a.txt", b"   \n\n", "no paragraphs"),
        ("a.json", b"{broken", "invalid JSON"),
        ("a.jsonl", b"{broken\n", "invalid JSON"),
        ("a.html", b"<html><body><script>x</script></body></html>", "no paragraphs"),
    ],
)
def test_unreadable_files_raise_parse_error_with_the_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ParseError, match=reason):
        parse_file(path)


def test_discover_walks_folders_skipping_hidden_and_readme_files(tmp_path: Path) -> None:
    for name in ["a.txt", "sub/b.md", "README.md", ".hidden/c.txt", "notes.pdf", ".d.txt"]:
        write(tmp_path, name, "x")
    found, problems = discover([tmp_path, tmp_path / "missing"])
    assert [p.relative_to(tmp_path).as_posix() for _, p in found] == ["a.txt", "sub/b.md"]
    assert problems == [f"{tmp_path / 'missing'}: no such file or directory"]


def test_shipped_data_parses_completely() -> None:
    articles = [a for path in sorted(DATA.glob("*.*")) if path.name != "README.md"
                for a in parse_file(path).articles]  # fmt: skip
    assert len(articles) == 281
    assert all(a.title and a.paragraphs for a in articles)


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2023-02-22 22 February 2023 22:13 (UTC+04:00)", "2023-02-22"),
        ("22 February 2023", "2023-02-22"),
        ("February 22, 2023", "2023-02-22"),
        ("Fri, 21 Aug 2026 16:00:54 -0400", "2026-08-21"),
        ("2024-13-45", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_normalize_date(value: str | None, iso: str | None) -> None:
    assert normalize_date(value) == iso


def test_lead_title_cuts_long_sentences_at_a_word() -> None:
    title = lead_title(["word " * 40 + "end."])
    assert title.endswith("…")
    assert len(title) <= 91
    assert " wor…" not in title
