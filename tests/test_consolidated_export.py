"""The Consolidado as CSV, XLSX and PDF, read back and compared with the figures of the rows the test
made (tests.test_consolidated's hand-made campaigns: search 10-12 Nov, previous period 7-9 Nov)."""
import csv
import io
import re

import openpyxl
import pytest

from data_access.scope import Scope
from exports.__main__ import main as export_main
from exports.consolidated_export import Layout, export_consolidated, file_name
from tests.test_consolidated import BF, HYPERLINK, SEARCH, campaigns  # noqa: F401 (fixture)
from tests.test_export_pdf import text_lines

# (group, counts now, counts before) by hand: sent, delivered, read, failed, replied, clicks.
NATAL = ((4, 2, 1, 1, 2, 2), (2, 1, 1, 1, 1, 1))
BLACK_FRIDAY = ((2, 2, 2, 0, 0, 0), (1, 1, 1, 0, 0, 0))
LINK = ((1, 1, 0, 0, 0, 0), None)
NOT_SET = ((1, 1, 1, 0, 0, 0), None)
TOTALS = ((8, 6, 4, 1, 2, 2), (4, 3, 3, 1, 1, 1))


def _rates(counts):
    sent, delivered, read, failed, replied, _ = counts
    return (delivered / sent, read / delivered if delivered else None, failed / sent,
            replied / delivered if delivered else None)


def expected_numbers(now, before):
    """The row's figures, each followed by its change, as the CSV writes them (fractions for rates)."""
    values = []
    for i, n in enumerate(now):
        values += [n, n - (before[i] if before else 0)]
    for i, rate in enumerate(_rates(now)):
        values += [rate, None if before is None else rate - _rates(before)[i]]
    return values


def exported(engine, fmt, lang, search=SEARCH, layout=Layout("campaign")) -> tuple[int, bytes]:
    buffer = io.BytesIO()
    written = export_consolidated(engine, search, layout, fmt, lang, buffer)
    return written, buffer.getvalue()


def parse(text: str):
    if text == "":
        return None
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


def test_csv_rows_in_order_with_changes_and_a_defused_formula(campaigns):
    written, data = exported(campaigns, "csv", "pt-BR")
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert written == 4
    assert header == [
        "Campanha", "Enviadas", "Δ Enviadas", "Entregues", "Δ Entregues", "Lidas", "Δ Lidas", "Falhas", "Δ Falhas",
        "Respondidas", "Δ Respondidas", "Cliques", "Δ Cliques", "Taxa de entrega", "Δ Taxa de entrega",
        "Taxa de leitura", "Δ Taxa de leitura", "Taxa de falha", "Δ Taxa de falha", "Taxa de resposta",
        "Δ Taxa de resposta",
    ]
    assert [row[0] for row in rows] == ["Natal", BF, "'" + HYPERLINK, "(não informado)", "Total"]
    for row, (now, before) in zip(rows, (NATAL, BLACK_FRIDAY, LINK, NOT_SET, TOTALS)):
        assert [parse(v) for v in row[1:]] == pytest.approx(expected_numbers(now, before), abs=1e-6)


def test_csv_in_english_sorted_by_name_without_the_comparison(campaigns):
    _, data = exported(campaigns, "csv", "en", layout=Layout("campaign", sort="group", descending=False, compare=False))
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert header == ["Campaign", "Sent", "Delivered", "Read", "Failed", "Replied", "Clicks", "Delivery rate",
                      "Read rate", "Failure rate", "Reply rate"]
    # "=" sorts before "B"; the group with no campaign comes last, then the totals.
    assert [row[0] for row in rows] == ["'" + HYPERLINK, BF, "Natal", "(not set)", "Total"]
    assert [parse(v) for v in rows[-1][1:]] == pytest.approx([8, 6, 4, 1, 2, 2, 6 / 8, 4 / 6, 1 / 8, 2 / 6])


def test_xlsx_typed_cells_strings_never_formulas_and_the_search_sheet(campaigns):
    written, data = exported(campaigns, "xlsx", "en", layout=Layout("campaign", sort="read_rate"))
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert written == 4
    assert book.sheetnames == ["Consolidated", "Filters"]
    sheet = book["Consolidated"]
    rows = list(sheet.iter_rows(values_only=True))
    # Read rate, largest first: Black Friday and (not set) 100%, Natal 50%, the link 0%.
    assert [row[0] for row in rows[1:]] == [BF, "(not set)", "Natal", HYPERLINK, "Total"]
    link = sheet.cell(row=5, column=1)
    assert (link.value, link.data_type) == (HYPERLINK, "s")
    totals = rows[-1]
    assert list(totals[1:13]) == [8, 4, 6, 3, 4, 1, 1, 0, 2, 1, 2, 1]
    assert totals[13] == pytest.approx(0.75) and totals[14] == pytest.approx(0.0)
    assert totals[15] == pytest.approx(4 / 6) and totals[16] == pytest.approx((4 / 6 - 1) * 100)  # points
    assert rows[4][14] == "–"  # the link had no MT in the previous period: no change of rate
    assert sheet.cell(row=6, column=2).number_format == "#,##0"
    assert sheet.cell(row=6, column=3).number_format == "+#,##0;-#,##0;0"
    assert sheet.cell(row=6, column=14).number_format == "0.0%"
    assert sheet.cell(row=6, column=15).number_format == '+0.0" pp";-0.0" pp";0.0" pp"'
    about = {name: value for name, value in book["Filters"].iter_rows(values_only=True)}
    assert about["View"] == "Consolidated Report"
    assert about["Group by"] == "Campaign"
    assert about["Period"] == "2026-11-10 – 2026-11-12"
    assert about["Previous period"] == "2026-11-07 – 2026-11-09"
    assert about["Time zone"] == "America/Sao_Paulo"
    assert about["Read rate"] == "Read ÷ delivered. Counted only when the recipient has read receipts on."
    assert about["Delivery rate"] == "Delivered (status Delivered or Read) ÷ all messages of the search."


@pytest.mark.parametrize("lang, lines", [
    ("pt-BR", ["Relatório Consolidado", "Agrupar por Campanha", "Período anterior 07/11/2026 – 09/11/2026",
               "Natal 4 +2 2 +1 1 0 1 0 2 +1 2 +1 50,0% 0,0 p.p. 50,0% -50,0 p.p. 25,0% -25,0 p.p. 100,0% 0,0 p.p.",
               "(não informado) 1 +1 1 +1 1 +1 0 0 0 0 0 0 100,0% – 100,0% – 0,0% – 0,0% –",
               "Total 8 +4 6 +3 4 +1 1 0 2 +1 2 +1 75,0% 0,0 p.p. 66,7% -33,3 p.p. 12,5% -12,5 p.p. 33,3% 0,0 p.p."]),
    ("es", ["Informe consolidado", "Agrupar por Campaña",
            "Total 8 +4 6 +3 4 +1 1 0 2 +1 2 +1 75,0% 0,0 p.p. 66,7% -33,3 p.p. 12,5% -12,5 p.p. 33,3% 0,0 p.p."]),
    ("en", ["Consolidated Report", "Group by Campaign",
            "Total 8 +4 6 +3 4 +1 1 0 2 +1 2 +1 75.0% 0.0 pp 66.7% -33.3 pp 12.5% -12.5 pp 33.3% 0.0 pp"]),
])
def test_pdf_table_in_three_languages(campaigns, lang, lines):
    written, data = exported(campaigns, "pdf", lang)
    text = text_lines(data)
    assert written == 4
    for line in lines:
        assert line in text


def test_scope_reaches_the_file(campaigns):
    """An account limited to Varejo: the Atacado MT of Black Friday is neither a figure nor in the totals."""
    _, data = exported(campaigns, "csv", "en", search=SEARCH.replace(scope=Scope(subaccounts=("Varejo",))))
    rows = {row[0]: row for row in csv.reader(io.StringIO(data.decode("utf-8"), newline=""))}
    assert (rows[BF][1], rows[BF][2]) == ("1", "0")  # f2 now, p3 before
    assert rows["Total"][1] == "7"


def test_unknown_format_and_the_file_name(campaigns):
    with pytest.raises(ValueError, match="unknown format 'ods'"):
        exported(campaigns, "ods", "en")
    assert file_name(SEARCH, Layout("template"), "xlsx", "pt-BR") == "relatorio-consolidado-template-2026-11-10_2026-11-12.xlsx"
    assert file_name(SEARCH, Layout("day"), "pdf", "es") == "informe-consolidado-day-2026-11-10_2026-11-12.pdf"


def test_the_command_line_writes_the_grouped_table(campaigns, db_url, tmp_path, capsys):
    out = tmp_path / "consolidado.csv"
    code = export_main(["--view", "mc", "--format", "csv", "-o", str(out), "--db", db_url, "--from", "2026-11-10",
                        "--to", "2026-11-12", "--lang", "en", "--campaign", "Natal"])
    assert code == 0
    header, *rows = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    assert header[:3] == ["Campaign", "Sent", "Δ Sent"]
    assert [[parse(v) for v in row[1:]] for row in rows] == [pytest.approx(expected_numbers(*NATAL))] * 2
    assert [row[0] for row in rows] == ["Natal", "Total"]
    assert "wrote 1 rows" in capsys.readouterr().err


@pytest.mark.parametrize("dimension", ["template", "day"])
def test_the_command_line_groups_as_told(campaigns, db_url, tmp_path, dimension):
    """`--group-by` lays out the file as the page's grouping does: the same bytes as the writer given
    that layout, a different first column from the default (campaign) grouping."""
    out = tmp_path / "consolidado.csv"
    code = export_main(["--view", "mc", "--format", "csv", "-o", str(out), "--db", db_url, "--from", "2026-11-10",
                        "--to", "2026-11-12", "--lang", "en", "--group-by", dimension])
    assert code == 0
    _, grouped = exported(campaigns, "csv", "en", layout=Layout(dimension))
    _, by_campaign = exported(campaigns, "csv", "en")
    assert out.read_bytes() == grouped
    assert grouped.split(b",", 1)[0] == {"template": b"Template", "day": b"Day"}[dimension]
    assert grouped != by_campaign
    assert list(csv.reader(io.StringIO(grouped.decode("utf-8"))))[-1][:2] == ["Total", str(TOTALS[0][0])]
