"""PDF exports read back with pdftotext (poppler) and pypdf, compared with the rows the test made."""
import io
import re
import subprocess

from pypdf import PdfReader

from exports.export import export
from tests.test_export_rows import M1, M2, M3, M4, MO_NOV10_11, NOV10_11, RICH_XML, data  # noqa: F401 (fixture)


def pdf(engine, filters, lang="pt-BR", **options) -> tuple[int, bytes]:
    buffer = io.BytesIO()
    written = export(engine, filters, "pdf", lang, buffer, **options)
    return written, buffer.getvalue()


def text_lines(document: bytes) -> list[str]:
    """The PDF's text, one line per printed line, runs of spaces made one."""
    layout = subprocess.run(["pdftotext", "-layout", "-", "-"], input=document, capture_output=True, check=True)
    lines = (re.sub(r"\s+", " ", line).strip() for line in layout.stdout.decode("utf-8").splitlines())
    return [line for line in lines if line]


def images(document: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(document)).pages)


def test_title_filters_totals_and_kpis(data):
    written, document = pdf(data, NOV10_11.replace(status=("read", "undelivered", "sent", "delivered")))
    lines = text_lines(document)
    assert written == 4
    assert lines[:2] == ["Relatório Detalhado – Enviado (MT)", "4 resultados"]
    assert "Visão Enviado (MT)" in lines
    assert "Período 10/11/2026 – 11/11/2026" in lines
    assert "Status Lida, Não entregue, Enviada, Entregue" in lines  # in the order chosen
    assert "Fuso horário America/Sao_Paulo" in lines
    assert any(re.fullmatch(r"Gerado em \d\d/\d\d/\d{4} \d\d:\d\d:\d\d", line) for line in lines)
    # Total, pending, delivered (A1 read + A4), read, replied (A1 by R1), failed, the four rates, then the
    # distinct recipients (A1..A4 each have their own phone).
    assert "4 1 2 1 1 1 50,0% 50,0% 25,0% 50,0% 4" in lines
    assert len({M1["phone"], M2["phone"], M3["phone"], M4["phone"]}) == 4
    assert "Não entregue 131049 Mensagem não entregue para o aparelho. Not delivered 1" in lines


def test_the_page_charts_are_embedded(data):
    _, sent = pdf(data, NOV10_11)
    _, received = pdf(data, MO_NOV10_11)
    assert (images(sent), images(received)) == (3, 3)


def test_detail_rows_in_the_zone_with_hostile_text_printed_as_text(data, output_dir):
    _, document = pdf(data, NOV10_11)
    (output_dir / f"export-sent-{data.dialect.name}.pdf").write_bytes(document)
    lines = text_lines(document)
    rows = [line for line in lines if re.match(r"\d\d/\d\d/2026 \d\d:\d\d:\d\d ", line)]
    assert [re.search(r"wamid\.A\d", row).group() for row in rows] == ["wamid.A3", "wamid.A4", "wamid.A2", "wamid.A1"]
    a3, a4, a2, a1 = rows
    assert a3.startswith("11/11/2026 23:59:59 Enviada +5511900000003 5511900000003 '; DROP TABLE")
    assert "maria.conceição Texto <script>alert(" in a3
    assert a4.startswith("11/11/2026 07:00:00 Entregue +5511900000004") and f" {RICH_XML} " in a4
    assert a2.startswith("10/11/2026 12:30:45 Não entregue +5511900000002")
    assert "-10% off @admin Template +SUM(1,2) Não" in a2 and "131049: Not delivered wamid.A2" in a2
    assert a1.startswith("10/11/2026 00:00:00 Lida +5511900000001")
    assert "Olá João!" in a1 and "conv-1 Business Initiated 11/11/2026 00:00:00 Varejo =HYPERLINK(" in a1
    assert "Enviado Status Telefone WhatsApp Campanha Usuário Tipo de Mensagem enviada" in " ".join(lines)
    assert not any(line.startswith("Esta busca tem") for line in lines)
    assert "No PDF, textos longos aparecem encurtados (…); o CSV e o XLSX trazem o texto completo." in lines


def test_more_rows_than_shown_is_said_plainly(data):
    written, document = pdf(data, NOV10_11, pdf_rows=2)
    lines = text_lines(document)
    assert written == 2
    assert "4 resultados" in lines
    assert "Esta busca tem 4 linhas; o PDF mostra as primeiras 2. Use CSV ou XLSX para todas." in lines
    shown = re.findall(r"wamid\.A\d", " ".join(lines))
    assert shown == ["wamid.A3", "wamid.A4"]


def test_received_pdf_in_english_with_emoji(data):
    written, document = pdf(data, MO_NOV10_11, lang="en", pdf_rows=1)
    lines = text_lines(document)
    assert written == 1
    assert lines[:2] == ["Detailed Report – Received (MO)", "2 results"]
    assert "Period 2026-11-10 – 2026-11-11" in lines and "Time zone America/Sao_Paulo" in lines
    assert "This search has 2 rows; the PDF shows the first 1. Use CSV or XLSX for all of them." in lines
    assert re.sub(" ", "", "Sim, quero 👍 Black Friday 1") in [re.sub(" ", "", line) for line in lines]
    row = next(line for line in lines if line.startswith("2026-11-11 17:15:00"))
    assert row.replace(" ", "").startswith("2026-11-1117:15:00+55119000000095511900000009Text")
    assert "Querosabermais😀Aindahoje?" in row.replace(" ", "")
    assert row.endswith("Conceição wamid.R2")


def test_an_empty_search_still_gives_its_page(data):
    written, document = pdf(data, NOV10_11.replace(status=("tier_limit",)), lang="es")
    lines = text_lines(document)
    assert written == 0
    assert lines[:2] == ["Informe Detallado – Enviado (MT)", "0 resultados"]
    assert "Estado Límite de tier de WhatsApp" in lines
    assert not any(re.search(r"wamid\.", line) for line in lines)
    assert images(document) == 3
