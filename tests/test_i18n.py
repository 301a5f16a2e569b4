"""The translation catalog: the gettext files (`data_access/locale`) hold every key in the three
languages with the same placeholders, the code asks only for keys that exist, and every key is asked
for somewhere (a static scan of the code for literal keys, plus the key families the code builds at
run time, declared below)."""
import ast
import functools
import os
import string
from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from data_access.accounts import ROLES
from data_access.catalog import CONVERSATION_TYPE_OF, CONVERSATION_TYPES, FAILURE_STATUSES, MO_CONTENT_TYPES, MT_CONTENT_TYPES, STATUSES
from data_access.config import LANGUAGES
from data_access.consolidated import DIMENSIONS
from data_access.insights import READ_BUCKETS
from data_access.filters import SESSIONS
from data_access.opt_out import KINDS as OPT_OUT_KINDS
from data_access.i18n import (
    CATALOG,
    DOMAIN,
    LOCALE_DIR,
    accepted_lang,
    catalog_path,
    date_format,
    excel_datetime_format,
    format_datetime,
    label,
    picker_date_format,
    request_lang,
    results_text,
    t,
)
from data_access.saved_searches import REFUSAL_PROBLEMS, RELATIVE_RANGES
from data_access.views import VIEWS
from exports.export import FORMATS
from data_access.opt_out import COLUMNS as OPT_OUT_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
NOT_CODE = {"tests", "data", "test-output", "__pycache__", "node_modules"}

# Keys the code builds at run time: the f-string of the call -> every key it can produce.
# A new `t(f"...")` in the code must be declared here (the scan below finds it).
DYNAMIC_KEYS: dict[str, set[str]] = {
    # the detail tables' headers (a view that writes its own files, the Consolidado, has none)
    "column.{}.{}": {f"column.{v.code}.{c.key}" for v in VIEWS.values() if v.export is None for c in v.columns},
    "column.{}.message": {f"column.{v.code}.message" for v in VIEWS.values() if v.export is None},
    "column.opt_out.{}": {f"column.opt_out.{name}" for name in OPT_OUT_COLUMNS},
    "dimension.{}": {f"dimension.{d}" for d in DIMENSIONS},  # the Consolidado's groupings
    "insight.bucket.{}": {f"insight.bucket.{name}" for name in READ_BUCKETS},  # time to read
    "status_help.{}": {f"status_help.{s}" for s in FAILURE_STATUSES},  # the failure reasons table
    "export.{}": {f"export.{fmt}" for fmt in FORMATS},  # the download buttons
    "export.file.{}": {f"export.file.{v.code}" for v in VIEWS.values() if v.export is None},
    "range.{}": {f"range.{kind}" for kind in RELATIVE_RANGES},
    "saved.refused.{}": {f"saved.refused.{problem}" for problem in REFUSAL_PROBLEMS},
    "role.{}": {f"role.{role}" for role in ROLES},
    "lang.{}": {f"lang.{lang}" for lang in LANGUAGES},
    "freshness.ago_{}": {f"freshness.ago_{unit}" for unit in ("s", "min", "h")},  # pages/freshness.py `ago`
    "audit.{}": {f"audit.{name}" for name in ("at", "actor", "action", "detail", "address")},  # audit CSV
}
# `label(kind, code)` reads the key f"{kind}.{code}": the codes of each kind.
LABEL_KINDS: dict[str, tuple[str, ...]] = {
    "status": STATUSES,
    "content_type": tuple(dict.fromkeys(MT_CONTENT_TYPES + MO_CONTENT_TYPES)),
    "conversation_type": CONVERSATION_TYPES,
    "session": SESSIONS,
    "lang": LANGUAGES,
    "opt_out_kind": OPT_OUT_KINDS,
    "pricing_category": tuple(code for code in CONVERSATION_TYPE_OF if code not in CONVERSATION_TYPES),
}


def _po(lang: str | None) -> list:
    """The entries of a language's .po file (or of the .pot template), header left out."""
    path = catalog_path(lang) if lang else LOCALE_DIR / f"{DOMAIN}.pot"
    with path.open("rb") as f:
        return [m for m in read_po(f, domain=DOMAIN) if m.id]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@functools.cache
def _code() -> dict[Path, ast.Module]:
    """Every Python file of the project except the tests, parsed."""
    trees = {}
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in NOT_CODE]
        for name in files:
            if name.endswith(".py"):
                path = Path(folder, name)
                trees[path] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return trees


def _template(node: ast.JoinedStr) -> str:
    return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    """Calls of the function `name` (as a bare name), with where they are."""
    return [
        (f"{path.relative_to(ROOT)}:{node.lineno}", node)
        for path, tree in _code().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name and node.args
    ]


# ---------------------------------------------------------------- the files


def test_three_languages_hold_the_same_keys_with_a_text_each():
    keys = [m.context for m in _po("en")]
    assert len(keys) == len(set(keys)) > 200
    for lang in LANGUAGES:
        entries = _po(lang)
        assert [m.context for m in entries] == keys, lang
        assert [m.context for m in entries if not m.string or m.fuzzy] == [], lang
        assert CATALOG[lang] == {m.context: m.string for m in entries}
    assert [(m.context, m.string) for m in _po(None)] == [(k, "") for k in keys]  # the template


def test_the_english_text_is_every_file_s_msgid():
    english = {m.context: m.string for m in _po("en")}
    for lang in (*LANGUAGES, None):
        assert {m.context: m.id for m in _po(lang)} == english, lang


def test_placeholders_agree_across_languages_per_key():
    for key, english in CATALOG["en"].items():
        fields = _fields(english)
        for lang in LANGUAGES:
            assert _fields(CATALOG[lang][key]) == fields, (key, lang)
        if fields:  # each fills without error, every placeholder replaced
            for lang in LANGUAGES:
                filled = t(key, lang, **{name: "§" for name in fields})
                assert "{" not in filled and "§" in filled, (key, lang, filled)


@pytest.mark.parametrize(
    ("code", "pt", "en", "es"),
    [  # SPEC section 2: the status words are a contract
        ("sent", "Enviada", "Sent", "Enviado"),
        ("delivered", "Entregue", "Delivered", "Entregado"),
        ("read", "Lida", "Read", "Leído"),
        ("ttl_expired", "Tempo de vida expirada (TTL)", "Time to live expired (TTL)", "Tiempo de vida expirado (TTL)"),
        ("carrier_failure", "Falha de comunicação com a operadora", "Carrier communication failure",
         "Falla de comunicación con la operadora"),
        ("carrier_rejected", "Rejeitada pela operadora", "Rejected by carrier", "Rechazado por la operadora"),
        ("undelivered", "Não entregue", "Not delivered", "No entregado"),
        ("invalid_number", "Número de destino inválido", "Invalid destination number", "Número de destino inválido"),
        ("opt_out", "Não entregue por opt-out", "Not delivered (opt-out)", "No entregado por opt-out"),
        ("invalid_session", "Sessão inválida", "Invalid session", "Sesión inválida"),
        ("internal_error", "Erro interno", "Internal error", "Error interno"),
        ("invalid_content", "Conteúdo inválido", "Invalid content", "Contenido inválido"),
        ("warmup_blocked", "Mensagem bloqueada por WarmUp", "Blocked by WarmUp", "Mensaje bloqueado por WarmUp"),
        ("tier_limit", "Limite de tier do WhatsApp", "WhatsApp tier limit", "Límite de tier de WhatsApp"),
        ("invalid_parameter", "Parâmetro/Contato inválido", "Invalid parameter/contact", "Parámetro/Contacto inválido"),
    ],
)
def test_status_words_are_the_spec_s(code, pt, en, es):
    assert [label("status", code, lang) for lang in ("pt-BR", "en", "es")] == [pt, en, es]


def test_t_fills_placeholders_and_falls_back_to_english_then_to_the_key():
    assert t("results.many", "pt-BR", n="2.400") == "2.400 resultados"
    assert t("results.many", "pt-BR") == "{n} resultados"  # no values: the text as it is
    assert t("table.page_size", "fr") == "Rows per page"
    assert t("no.such.key", "es") == "no.such.key"
    assert label("status", "no_such_code", "pt-BR") == "no_such_code"
    assert results_text(2400, "pt-BR") == "2.400 resultados"
    assert results_text(1, "es") == "1 resultado"


@pytest.mark.parametrize(
    ("lang", "strftime", "excel", "picker", "written"),
    [
        ("pt-BR", "%d/%m/%Y", "dd/mm/yyyy hh:mm:ss", "DD/MM/YYYY", "02/11/2026 22:05:09"),
        ("en", "%Y-%m-%d", "yyyy-mm-dd hh:mm:ss", "YYYY-MM-DD", "2026-11-02 22:05:09"),
        ("es", "%d/%m/%Y", "dd/mm/yyyy hh:mm:ss", "DD/MM/YYYY", "02/11/2026 22:05:09"),
        ("fr", "%Y-%m-%d", "yyyy-mm-dd hh:mm:ss", "YYYY-MM-DD", "2026-11-02 22:05:09"),  # unknown: as English
    ],
)
def test_one_day_pattern_per_language_gives_every_date_notation(lang, strftime, excel, picker, written):
    assert (date_format(lang), excel_datetime_format(lang), picker_date_format(lang)) == (strftime, excel, picker)
    at = datetime(2026, 11, 3, 1, 5, 9, tzinfo=timezone.utc)  # 22:05:09 the day before in São Paulo
    assert format_datetime(at, lang, "America/Sao_Paulo") == written
    assert format_datetime(None, lang) == ""


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("fr-FR, es;q=0.9, en;q=0.8", "es"),  # the report's language of the highest weight
        ("de, en-GB;q=0.5", "en"),
        ("pt-PT;q=0.3, EN-us;q=0.3", "pt-BR"),  # equal weights: the first; any Portuguese is pt-BR
        ("es;q=0.5, pt;q=0.7, en", "en"),  # no q is 1
        ("en;q=0, es;q=0.001", "es"),  # q=0 says "not this one"
        ("en;q=high, es;q=0.1", "es"),  # a weight that is no number counts as 0
        (" es-419 ; q=0.8 ;level=1 , en ; q = 0.7", "es"),  # spaces and other parameters
        ("fr, de;q=0.9, *;q=0.5", None),
        ("", None),
        (None, None),
    ],
)
def test_accept_language_gives_the_report_s_language_it_prefers_most(header, lang):
    assert accepted_lang(header) == lang


def test_a_request_s_language_is_the_asked_one_then_the_browser_s_then_the_server_s(monkeypatch):
    monkeypatch.delenv("REPORT_LANG", raising=False)
    assert request_lang("es", "en") == "es"
    assert request_lang("fr", "en-US, es;q=0.5") == "en"  # a language the report does not speak is not asked
    assert request_lang(None, "fr") == "pt-BR"
    assert request_lang(None) == "pt-BR"
    monkeypatch.setenv("REPORT_LANG", "es")
    assert (request_lang(None, "de"), request_lang("en", "es"), request_lang(None, "en")) == ("es", "en", "en")
    monkeypatch.setenv("REPORT_LANG", "klingon")  # a malformed setting: pt-BR
    assert request_lang(None, "de") == "pt-BR"


# ---------------------------------------------------------------- the code asks for them


def test_every_key_the_code_asks_for_exists():
    keys = set(CATALOG["en"])
    asked = {(where, call.args[0].value) for where, call in _calls("t") if isinstance(call.args[0], ast.Constant)}
    asked |= {
        (f"{path.relative_to(ROOT)}:{node.lineno}", node.value.value)
        for path, tree in _code().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and (node.arg or "").endswith("_key")
        and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    assert len(asked) > 100
    assert sorted((where, key) for where, key in asked if key not in keys) == []
    built = set().union(*DYNAMIC_KEYS.values(), *({f"{k}.{c}" for c in codes} for k, codes in LABEL_KINDS.items()))
    assert sorted(built - keys) == []


def test_every_key_the_code_builds_is_declared_here():
    templates = {(where, _template(call.args[0])) for where, call in _calls("t") if isinstance(call.args[0], ast.JoinedStr)}
    assert sorted((where, tpl) for where, tpl in templates if tpl not in DYNAMIC_KEYS) == []
    assert {tpl for _, tpl in templates} == set(DYNAMIC_KEYS)  # and each declared family is still built
    kinds = {(where, call.args[0].value) for where, call in _calls("label") if isinstance(call.args[0], ast.Constant)}
    assert sorted((where, kind) for where, kind in kinds if kind not in LABEL_KINDS) == []


def test_every_key_is_used():
    literals = {
        node.value
        for tree in _code().values()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    used = literals | set().union(*DYNAMIC_KEYS.values())
    used |= {f"{kind}.{code}" for kind, codes in LABEL_KINDS.items() for code in codes}
    assert sorted(set(CATALOG["en"]) - used) == []
