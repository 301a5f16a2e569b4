"""XLSX exports read back with openpyxl and compared with the rows the test made."""
import io
import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from data_access.views import view
from exports.export import export
from tests.test_export_rows import (
    HYPERLINK,
    MO_NOV10_11,
    NEWEST_FIRST,
    NOV10_11,
    RICH_XML,
    SQL_TEXT,
    data,  # noqa: F401 (fixture)
)


def workbook(engine, filters, lang="pt-BR", keep: Path | None = None, **options) -> tuple[int, openpyxl.Workbook]:
    """The export read back; `keep` also writes it there for people to open."""
    buffer = io.BytesIO()
    written = export(engine, filters, "xlsx", lang, buffer, **options)
    if keep:
        keep.write_bytes(buffer.getvalue())
    return written, openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))


def sheet_rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def pairs(sheet) -> dict[str, object]:
    return {name: value for name, value in sheet.iter_rows(values_only=True) if name}


def test_data_sheet_rows_headers_and_typed_cells(data):
    written, book = workbook(data, NOV10_11)
    assert written == 4
    assert book.sheetnames == ["Dados", "Filtros"]
    sheet = book["Dados"]
    header, *rows = sheet_rows(sheet)
    assert list(header) == view("mt").headers("pt-BR")
    assert [row[-1] for row in rows] == NEWEST_FIRST
    by_id = {row[-1]: dict(zip(header, row)) for row in rows}
    a1, a2 = by_id["wamid.A1"], by_id["wamid.A2"]
    assert a1["Enviado"] == datetime(2026, 11, 10, 0, 0, 0)  # wall clock of America/Sao_Paulo
    assert a1["Data de expiração da conversa"] == datetime(2026, 11, 11, 0, 0, 0)
    assert a2["Enviado"] == datetime(2026, 11, 10, 12, 30, 45)
    assert by_id["wamid.A3"]["Enviado"] == datetime(2026, 11, 11, 23, 59, 59)
    assert (a1["Status"], a1["Enviado com sessão"], a1["Tipo de conversa"]) == ("Lida", "Sim", "Business Initiated")
    assert (a2["Status"], a2["Erro"], a2["ID da conversa"]) == ("Não entregue", "131049: Not delivered", None)
    assert a1["Mensagem enviada"] == "Olá João! Ofertas de até 70% 🎉"
    assert a1["Telefone"] == "+5511900000001"
    sent = sheet.cell(row=2, column=1)
    assert sent.is_date and sent.number_format == "dd/mm/yyyy hh:mm:ss"


def test_every_text_is_a_string_cell_never_a_formula(data):
    _, book = workbook(data, NOV10_11)
    sheet = book["Dados"]
    header, *rows = sheet_rows(sheet)
    by_id = {row[-1]: dict(zip(header, row)) for row in rows}
    assert by_id["wamid.A1"]["Correlation ID"] == HYPERLINK
    assert (by_id["wamid.A2"]["Mensagem enviada"], by_id["wamid.A2"]["Campanha"]) == ("+SUM(1,2)", "-10% off")
    assert by_id["wamid.A2"]["Usuário"] == "@admin"
    assert by_id["wamid.A2"]["Correlation ID"] == "\tTAB"
    assert by_id["wamid.A3"]["Mensagem enviada"] == "<script>alert('x')</script>"
    assert by_id["wamid.A3"]["Campanha"] == SQL_TEXT
    assert by_id["wamid.A4"]["Mensagem enviada"] == RICH_XML  # not taken as xlsxwriter rich-text markup
    assert by_id["wamid.A4"]["Correlation ID"] == ""
    dates = {1, 12}  # Enviado, Data de expiração da conversa
    kinds = {cell.data_type for row in sheet.iter_rows(min_row=2) for cell in row
             if cell.column not in dates and cell.value is not None}
    assert kinds == {"s"}  # neither "f" (formula) nor "n"


def test_frozen_header_autofilter_and_widths(data, output_dir):
    _, book = workbook(data, NOV10_11, keep=output_dir / f"export-sent-{data.dialect.name}.xlsx")
    sheet = book["Dados"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:P5"
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJKLMNOP"]
    assert all(8 <= width <= 60 for width in widths)
    assert widths[7] > widths[8]  # "Mensagem enviada" wider than "Enviado com sessão"'s Sim/Não


def test_filters_sheet_has_the_search_time_zone_generation_time_and_kpis(data):
    filters = NOV10_11.replace(campaign=("Black Friday", SQL_TEXT))
    written, book = workbook(data, filters)
    assert written == 2
    sheet = book["Filtros"]
    assert sheet_rows(sheet)[0] == ("Filtro", "Valor")
    values = pairs(sheet)
    assert values["Visão"] == "Enviado (MT)"
    assert values["Período"] == "10/11/2026 – 11/11/2026"
    assert values["Campanha"] == f"Black Friday, {SQL_TEXT}"
    assert values["Fuso horário"] == "America/Sao_Paulo"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", values["Gerado em"])
    assert values["Linhas exportadas"] == 2
    assert "Planilhas de dados" not in values
    # A1 (read, replied by R1) and A3 (sent).
    assert (values["Total"], values["Pendentes"], values["Entregues"], values["Lidas"]) == (2, 1, 1, 1)
    assert (values["Respondidas"], values["Falhas"]) == (1, 0)
    assert (values["Taxa de entrega"], values["Taxa de leitura"], values["Taxa de falha"]) == (0.5, 1.0, 0.0)
    assert values["Taxa de resposta"] == 1.0
    assert sheet.cell(row=list(values).index("Taxa de entrega") + 3, column=2).number_format == "0.0%"


def test_rows_continue_on_further_sheets_with_nothing_lost(data):
    _, whole = workbook(data, NOV10_11)
    written, split = workbook(data, NOV10_11, sheet_rows=3)  # a header and two rows a sheet
    assert written == 4
    assert split.sheetnames == ["Dados", "Dados (2)", "Filtros"]
    first, second = sheet_rows(split["Dados"]), sheet_rows(split["Dados (2)"])
    assert first[0] == second[0] == tuple(view("mt").headers("pt-BR"))
    assert (len(first), len(second)) == (3, 3)
    assert first[1:] + second[1:] == sheet_rows(whole["Dados"])[1:]
    assert split["Dados (2)"].freeze_panes == "A2" and split["Dados (2)"].auto_filter.ref == "A1:P3"
    values = pairs(split["Filtros"])
    assert (values["Linhas exportadas"], values["Planilhas de dados"]) == (4, "Dados, Dados (2)")


def test_an_uneven_split_and_the_limit_itself(data):
    _, book = workbook(data, NOV10_11, sheet_rows=4)
    assert [len(sheet_rows(book[name])) - 1 for name in book.sheetnames[:-1]] == [3, 1]
    _, book = workbook(data, NOV10_11, sheet_rows=5)
    assert book.sheetnames == ["Dados", "Filtros"]
    with pytest.raises(ValueError, match="sheet_rows"):
        export(data, NOV10_11, "xlsx", "en", io.BytesIO(), sheet_rows=1)


def test_mo_workbook_in_english(data):
    written, book = workbook(data, MO_NOV10_11, lang="en")
    assert (written, book.sheetnames) == (2, ["Data", "Filters"])
    header, *rows = sheet_rows(book["Data"])
    assert list(header) == view("mo").headers("en")
    by_id = {row[-1]: dict(zip(header, row)) for row in rows}
    r1, r2 = by_id["wamid.R1"], by_id["wamid.R2"]
    assert r1["Replied"] == datetime(2026, 11, 10, 1, 0, 0)
    assert book["Data"].cell(row=2, column=1).number_format == "yyyy-mm-dd hh:mm:ss"
    assert (r1["Content type"], r1["Button payload"], r1["Profile name"]) == (
        "Button (quick reply)", "SIM", "=cmd|' /C calc'!A0"
    )
    assert r2["Message received"] == "Quero saber mais 😀\nAinda hoje?"
    values = pairs(book["Filters"])
    assert (values["View"], values["Period"], values["Time zone"]) == (
        "Received (MO)", "2026-11-10 – 2026-11-11", "America/Sao_Paulo"
    )
    assert (values["Rows exported"], values["Total"], values["Clicks"]) == (2, 2, 1)


def test_empty_search_keeps_the_header_row(data):
    written, book = workbook(data, NOV10_11.replace(status=("tier_limit",)))
    assert written == 0
    assert sheet_rows(book["Dados"]) == [tuple(view("mt").headers("pt-BR"))]
    assert pairs(book["Filtros"])["Status"] == "Limite de tier do WhatsApp"
