"""CSV exports read back with Python's csv module and compared with the rows the test made."""
import csv
import io

import pytest

from data_access.views import view
from data_access.engine import DatabaseError, make_engine
from exports.export import export, file_name
from tests.test_export_rows import (
    HYPERLINK,
    MO_NOV10_11,
    NEWEST_FIRST,
    NOV10_11,
    RICH_XML,
    SQL_TEXT,
    data,  # noqa: F401 (fixture)
)

FREE_TEXT = ("Campanha", "Usuário", "Mensagem enviada", "Subconta", "Correlation ID", "Erro")


def read_csv(engine, filters, lang="pt-BR") -> tuple[int, list[list[str]]]:
    buffer = io.BytesIO()
    written = export(engine, filters, "csv", lang, buffer)
    return written, list(csv.reader(io.StringIO(buffer.getvalue().decode("utf-8"), newline="")))


def test_header_then_every_row_newest_first(data):
    written, (header, *rows) = read_csv(data, NOV10_11)
    assert written == 4
    assert header == view("mt").headers("pt-BR")
    assert len(header) == 16 and header[-4:] == ["Subconta", "Correlation ID", "Erro", "ID da mensagem"]
    assert [row[-1] for row in rows] == NEWEST_FIRST


def test_values_labels_and_iso_timestamps_with_the_offset(data):
    _, (header, *rows) = read_csv(data, NOV10_11)
    by_id = {row[-1]: dict(zip(header, row)) for row in rows}
    a1, a2 = by_id["wamid.A1"], by_id["wamid.A2"]
    assert a1["Enviado"] == "2026-11-10T00:00:00-03:00"
    assert a1["Data de expiração da conversa"] == "2026-11-11T00:00:00-03:00"
    assert (a1["Status"], a1["Tipo de conteúdo"], a1["Enviado com sessão"]) == ("Lida", "Template", "Sim")
    assert (a1["ID da conversa"], a1["Tipo de conversa"]) == ("conv-1", "Business Initiated")
    assert a1["Mensagem enviada"] == "Olá João! Ofertas de até 70% 🎉"
    assert a2["Enviado"] == "2026-11-10T12:30:45-03:00"
    assert (a2["Status"], a2["Erro"], a2["Enviado com sessão"]) == ("Não entregue", "131049: Not delivered", "Não")
    assert (a2["ID da conversa"], a2["Data de expiração da conversa"]) == ("", "")
    assert by_id["wamid.A3"]["Enviado"] == "2026-11-11T23:59:59-03:00"
    assert by_id["wamid.A3"]["Usuário"] == "maria.conceição"


def test_formula_like_text_is_defused_and_phones_stay(data):
    _, (header, *rows) = read_csv(data, NOV10_11)
    by_id = {row[-1]: dict(zip(header, row)) for row in rows}
    a1, a2, a3, a4 = (by_id[f"wamid.A{n}"] for n in (1, 2, 3, 4))
    assert a1["Correlation ID"] == "'" + HYPERLINK
    assert (a2["Mensagem enviada"], a2["Campanha"], a2["Usuário"]) == ("'+SUM(1,2)", "'-10% off", "'@admin")
    assert a2["Correlation ID"] == "'\tTAB"
    assert (a3["Mensagem enviada"], a3["Campanha"]) == ("<script>alert('x')</script>", SQL_TEXT)
    assert a4["Mensagem enviada"] == RICH_XML
    assert [by_id[i]["Telefone"] for i in NEWEST_FIRST] == [
        "+5511900000003", "+5511900000004", "+5511900000002", "+5511900000001"
    ]
    for row in rows:
        for name in FREE_TEXT:
            assert not row[header.index(name)].startswith(("=", "+", "-", "@", "\t", "\r")), (name, row)


def test_time_zone_moves_the_period_and_the_offsets(data):
    _, (header, *rows) = read_csv(data, NOV10_11.replace(tz="UTC"), lang="en")
    assert header == view("mt").headers("en")
    sent = {row[-1]: row[0] for row in rows}
    # In UTC the 10th and 11th hold A6 (02:59:59Z on the 10th) and no longer A3 (02:59:59Z on the 12th).
    assert sent == {
        "wamid.A4": "2026-11-11T10:00:00+00:00",
        "wamid.A2": "2026-11-10T15:30:45+00:00",
        "wamid.A1": "2026-11-10T03:00:00+00:00",
        "wamid.A6": "2026-11-10T02:59:59+00:00",
    }
    assert {row[1] for row in rows} == {"Delivered", "Not delivered", "Read"}


def test_mo_csv_in_spanish(data):
    _, (header, *rows) = read_csv(data, MO_NOV10_11, lang="es")
    assert header == view("mo").headers("es")
    by_id = {row[-1]: dict(zip(header, row)) for row in rows}
    assert list(by_id) == ["wamid.R2", "wamid.R1"]
    r1, r2 = by_id["wamid.R1"], by_id["wamid.R2"]
    assert (r1["Respondido"], r1["Origen"], r1["Tipo de contenido"]) == (
        "2026-11-10T01:00:00-03:00", "+5511900000001", "Botón (respuesta rápida)"
    )
    assert (r1["Payload del botón"], r1["En respuesta a"], r1["Mensaje recibido"]) == ("SIM", "wamid.A1", "Sim, quero 👍")
    assert r1["Nombre del perfil"] == "'=cmd|' /C calc'!A0"
    assert (r2["Mensaje recibido"], r2["Nombre del perfil"]) == ("Quero saber mais 😀\nAinda hoje?", "Conceição")


def test_empty_search_is_the_header_alone(data):
    written, rows = read_csv(data, NOV10_11.replace(status=("tier_limit",)))
    assert (written, rows) == (0, [view("mt").headers("pt-BR")])


def test_progress_reports_rows_against_the_total(data):
    calls = []
    export(data, NOV10_11, "csv", "en", io.BytesIO(), lambda done, total: calls.append((done, total)))
    assert calls == [(0, 4), (4, 4)]


def test_a_path_is_written_whole_and_named_by_view_and_period(data, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / file_name(NOV10_11, "csv", "pt-BR")
    assert target.name == "relatorio-enviadas-2026-11-10_2026-11-11.csv"
    assert export(data, NOV10_11, "csv", "pt-BR", target) == 4
    assert [p.name for p in folder.iterdir()] == [target.name]  # no partial file left
    assert target.read_text(encoding="utf-8").count("wamid.A") == 4
    assert file_name(MO_NOV10_11, "xlsx", "en") == "report-received-2026-11-10_2026-11-11.xlsx"


def test_a_failed_export_leaves_no_file_and_says_why(tmp_path):
    unmigrated = make_engine(f"duckdb:///{tmp_path / 'empty.duckdb'}")  # no tables
    target = tmp_path / "out.csv"
    with pytest.raises(DatabaseError, match="^the database could not be read: .*mt_message"):
        export(unmigrated, NOV10_11, "csv", "pt-BR", target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.duckdb"]


def test_unknown_format_and_language_are_refused(data):
    with pytest.raises(ValueError, match="unknown format 'xls': accepted are csv, xlsx, pdf"):
        export(data, NOV10_11, "xls", "pt-BR", io.BytesIO())
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        export(data, NOV10_11, "csv", "fr", io.BytesIO())
