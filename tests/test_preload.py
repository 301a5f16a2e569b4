"""The `Link` header of server/preload.py, on a real app server: each page answer lists the code of
the dashboard's elements for the browser to fetch early, every file it lists is served, and with
Streamlit's own page it covers every large module those elements import, in a header a reverse proxy
lets through. Other answers get no such header.
The lists are checked against the files themselves (the modules' `import` statements, the page's
`<link rel="modulepreload">` tags), not against the manifest the middleware reads."""
import re
import shutil
from pathlib import Path

import httpx
import pytest

from server import preload
from server.headers import SECURITY_HEADERS
from tests.app_server import serve_rows
from tests.factories import at, mt_row

STATIC = preload.STATIC
LINK = re.compile(r"<\./(static/js/[^>]+\.js)>; rel=modulepreload; crossorigin(; fetchpriority=low)?")
FONT_LINK = re.compile(r'<\./(static/media/[^>]+\.woff2)>; rel=preload; as=font; type="font/woff2"; crossorigin')
# the fonts the page's stylesheet declares: `font-family:NAME;...src:url(../media/FILE)`
FONT_FACE = re.compile(r"@font-face\{font-family:([^;]+);[^}]*?src:url\(\.\./media/([^)]+\.woff2)\)")
# a module's static imports (rolldown writes `import{...}from"./x.js"` and `import"./x.js"`)
IMPORT = re.compile(r'(?:\bfrom|\bimport)\s*"\./([^"/]+\.js)"')
PAGE_PRELOAD = re.compile(r'<link rel="modulepreload" crossorigin href="\./(static/js/[^"]+)">')
PAGE_ENTRY = re.compile(r'<script type="module" crossorigin src="\./(static/js/[^"]+)">')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    rows = [mt_row(sent_at=at(10, 9, 0), status="read"), mt_row(sent_at=at(11, 9, 0), status="sent")]
    with serve_rows(tmp_path_factory.mktemp("preload"), rows, []) as base:
        yield base


def links(header: str) -> list[str]:
    """The path of each module of a `Link` header, which must hold module preloads, then font preloads."""
    return _split(header)[0]


def font_links(header: str) -> list[str]:
    """The path of each font of a `Link` header (after its modules)."""
    return _split(header)[1]


def _split(header: str) -> tuple[list[str], list[str]]:
    parts = header.split(", ")
    modules = [LINK.fullmatch(part) for part in parts]
    count = next((i for i, match in enumerate(modules) if not match), len(parts))
    fonts = [FONT_LINK.fullmatch(part) for part in parts[count:]]
    assert all(fonts), [part for part, match in zip(parts[count:], fonts) if not match]
    return [match[1] for match in modules[:count]], [match[1] for match in fonts]


def imports_of(file: str, static: Path = STATIC) -> set[str]:
    return {f"static/js/{name}" for name in IMPORT.findall((static / file).read_text(encoding="utf-8"))}


def large(file: str) -> bool:
    return (STATIC / file).stat().st_size >= 30_000


def test_each_page_answer_lists_the_elements_code(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        answers = {path: client.get(path) for path in ("/sent", "/received", "/")}
    for path, answer in answers.items():
        assert answer.status_code == 200, path
        assert answer.headers["content-type"] == "text/html; charset=utf-8", path
        assert answer.headers["link"] == preload.link_header(), path
        # within the 4 KB nginx keeps for an answer's headers by default (`proxy_buffer_size`)
        assert sum(len(name) + len(value) + 4 for name, value in answer.headers.raw) < 3000, path
        for name, value in SECURITY_HEADERS:  # the page keeps its security headers
            assert answer.headers[name] == value, (path, name)
    scripts = links(answers["/sent"].headers["link"])
    # plotly's chunk, the tables', the KPI cards', the date and list widgets'
    plotly, = STATIC.glob("static/js/PlotlyChart.*.js")
    names = {path.split("/")[-1].split(".")[0] for path in scripts}
    assert {"PlotlyChart", "DataFrame", "Table", "Metric", "DateInput", "Multiselect", "Selectbox"} <= names
    assert str(plotly.relative_to(STATIC)) in scripts
    assert len(scripts) == len(set(scripts)) == 29

    page = answers["/sent"].text
    entry, = PAGE_ENTRY.findall(page)
    in_page = {entry, *PAGE_PRELOAD.findall(page)}
    assert not in_page & set(scripts)  # nothing the page preloads itself
    # the page's modules and the listed ones import no large module left out; the small ones they
    # import (up to 30 KB) are fetched when imported
    fetched = in_page | set(scripts)
    for file in sorted(fetched):
        assert {name for name in imports_of(file) if large(name)} <= fetched, file
    small = {name.split("/")[-1].split(".")[0] for name in scripts if not large(name)}
    assert small == {"Checkbox", "Radio", "Selectbox", "TextInput", "Button", "PageLink", "Html", "BidiComponent",
                     "Spinner", "Metric", "Table", "Pagination", "DownloadButton", "LinkButton", "DateInput",
                     "Multiselect"}


def served_as_installed(client: httpx.Client, path: str, content_type: str) -> httpx.Response:
    """The server's answer for Streamlit's file `path`, checked to be the installed file's bytes."""
    answer = client.get(f"/{path}")
    assert answer.status_code == 200, path
    assert answer.content == (STATIC / path).read_bytes(), path
    assert answer.headers["content-type"] == content_type, path
    return answer


def test_every_listed_file_is_served_as_it_is_installed(server):
    listed = links(preload.link_header())
    with httpx.Client(base_url=server, timeout=60) as client:
        for path in listed:
            answer = served_as_installed(client, path, "application/javascript")
            assert answer.headers["cache-control"] == "public, immutable, max-age=31536000", path  # hashed names
            assert "link" not in answer.headers, path  # only pages carry the list
    assert sum((STATIC / path).stat().st_size for path in listed) > 4_700_000  # plotly's 4.7 MB among them


def test_what_comes_after_the_total_is_asked_for_at_low_priority():
    """The files only the charts, tables and links need (drawn after the total) are marked
    `fetchpriority=low`: plotly's, the table's and what they import; the widgets' and the cards' not."""
    parts = preload.link_header().split(", ")
    low = {LINK.fullmatch(part)[1] for part in parts if part.endswith("; fetchpriority=low")}
    names = {path.split("/")[-1].split(".")[0] for path in low}
    assert {"PlotlyChart", "Table", "DataFrame", "Pagination", "DownloadButton", "LinkButton", "arrowFormatUtils"} <= names
    assert not names & {"Metric", "DateInput", "Multiselect", "Selectbox", "Button", "PageLink", "Html"}
    early = set(preload.preloaded_files(STATIC, [e for e in preload.ELEMENTS if e not in preload.LATER]))
    assert low == set(links(preload.link_header())) - early
    assert not low & early


def test_the_icons_and_code_fonts_are_listed_and_served(server):
    """The two fonts after the modules: the ones the page's stylesheet declares for Material Symbols
    (its icons) and upright Source Code Pro (code spans), each served as installed."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    style, = re.findall(r'<link rel="stylesheet" crossorigin href="\./(static/css/[^"]+)">', page)
    declared = {}
    for family, file in FONT_FACE.findall((STATIC / style).read_text(encoding="utf-8")):
        declared.setdefault(family, []).append(f"static/media/{file}")
    header = preload.link_header()
    fonts = font_links(header)
    assert fonts == [declared["Material Symbols Rounded"][0],
                     next(f for f in declared["Source Code Pro"] if "Upright" in f)]
    assert not any(f in page for f in fonts)  # Streamlit's page preloads its text font only
    with httpx.Client(base_url=server, timeout=30) as client:
        for path in fonts:
            served_as_installed(client, path, "font/woff2")


def test_a_font_streamlit_does_not_have_is_refused():
    with pytest.raises(preload.ManifestError, match="^Streamlit's manifest has 0 files of the font Comic-Sans$"):
        preload.preloaded_fonts(STATIC, ["MaterialSymbols-Rounded", "Comic-Sans"])


def test_answers_other_than_pages_get_no_list(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        health = client.get("/_stcore/health")
        healthz = client.get("/healthz")
        head = client.head("/sent")
        webhook = client.post("/webhooks/meta", content=b"{}")
    assert (health.status_code, health.text, "link" in health.headers) == (200, "ok", False)
    assert (healthz.headers["content-type"], "link" in healthz.headers) == ("application/json", False)
    assert (head.status_code, head.headers["link"]) == (200, preload.link_header())  # HEAD as GET
    assert (webhook.status_code, "link" in webhook.headers) == (404, False)  # no secret set: no endpoint


def manifest_copy(tmp_path: Path) -> Path:
    """A copy of the installed manifest and scripts, in a folder of its own."""
    shutil.copy(STATIC / "manifest.json", tmp_path / "manifest.json")
    shutil.copytree(STATIC / "static" / "js", tmp_path / "static" / "js")
    return tmp_path


def test_the_files_of_one_element_and_of_what_it_imports(tmp_path):
    scripts = preload.preloaded_files(manifest_copy(tmp_path), ["Metric"])
    metric, = STATIC.glob("static/js/Metric.*.js")
    assert scripts[0] == str(metric.relative_to(STATIC))
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    in_page = {*PAGE_ENTRY.findall(page), *PAGE_PRELOAD.findall(page)}
    # Metric's chunk, and the large ones of what it imports and what those import, less the page's
    # own: found by reading the files
    found, todo = set(), [scripts[0]]
    while todo:
        file = todo.pop()
        if file not in found and file not in in_page:
            found.add(file)
            todo.extend(imports_of(file))
    expected = {scripts[0]} | {file for file in found if large(file)}
    assert len(expected) > 1 and len(found) > len(expected)
    assert set(scripts) == expected
    assert len(scripts) == len(expected)


def test_an_element_streamlit_does_not_have_is_refused(tmp_path):
    with pytest.raises(preload.ManifestError, match="^Streamlit's manifest names no element Sparkline, Gauge$"):
        preload.preloaded_files(STATIC, ["Metric", "Sparkline", "Gauge"])


def test_a_listed_file_missing_from_the_installation_is_refused(tmp_path):
    static = manifest_copy(tmp_path)
    metric, = static.glob("static/js/Metric.*.js")
    metric.unlink()
    with pytest.raises(preload.ManifestError,
                       match=rf"^Streamlit's manifest lists static/js/{re.escape(metric.name)}, which is not installed$"):
        preload.preloaded_files(static, ["Metric"])
