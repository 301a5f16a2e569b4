"""The "Usuários" page (admins only, SPEC section 9): accounts with their permission level and
subaccounts, adding one, changing its role, subaccounts, password, two-step verification (a QR code to
enrol an authenticator app) and IP allow-list, disabling it; the system users' API tokens.

Every change goes through `data_access.accounts`, which records it in the audit log under the admin's
email and address. A non-admin who opens the URL sees nothing: the router does not list the page and
the page stops before drawing anything.
"""
from __future__ import annotations

import segno
import streamlit as st
from sqlalchemy.engine import Engine

from data_access import accounts
from data_access.accounts import Account, AccountConflict, AccountError
from data_access.i18n import t
from pages import session
from pages.data import DB_ERRORS, database, show_database_error
from pages.notices import code_span
from pages.run import current_run

ROLES = ("admin", "manager", "analyst")
_REFUSALS = (AccountError, AccountConflict)


def _lines(text: str) -> list[str]:
    """Values typed one per line or separated by commas."""
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


def _attempt(lang: str, work, *args, **kwargs):  # noqa: ANN001, ANN202 (any account call)
    """Runs an account change; a refusal is shown and None returned."""
    try:
        return work(*args, **kwargs)
    except _REFUSALS as exc:
        st.error(t("users.refused", lang, detail=code_span(str(exc))), icon=":material/error:")
    except DB_ERRORS as exc:
        show_database_error(exc, lang)
    return None


def _table(rows: list[Account], lang: str) -> None:
    yes, no = t("bool.true", lang), t("bool.false", lang)
    st.dataframe(
        [{
            t("users.email", lang): a.email,
            t("users.name", lang): a.name,
            t("users.role", lang): t(f"role.{a.role}", lang),
            t("users.subaccounts", lang): ", ".join(a.subaccounts),
            t("users.active", lang): yes if a.active else no,
            t("users.totp", lang): yes if a.totp_enabled else no,
            t("users.ip_allow", lang): ", ".join(a.ip_allow),
        } for a in rows],
        hide_index=True, width="stretch",
    )


def _add_form(engine: Engine, who: dict, lang: str) -> None:
    with st.expander(t("users.add", lang), icon=":material/person_add:"), st.form("users.add", clear_on_submit=True):
        email = st.text_input(t("users.email", lang))
        name = st.text_input(t("users.name", lang))
        role = st.selectbox(t("users.role", lang), ROLES, index=2, format_func=lambda r: t(f"role.{r}", lang))
        subaccounts = st.text_input(t("users.subaccounts", lang), help=t("users.list_help", lang))
        password = st.text_input(t("users.password", lang), type="password", help=t("users.password_help", lang))
        if st.form_submit_button(t("users.add", lang), type="primary"):
            added = _attempt(lang, accounts.add_account, engine, email, role, name, _lines(subaccounts),
                             password or None, **who)
            if added is not None:
                st.success(t("users.added", lang, email=code_span(added.email)), icon=":material/check_circle:")


def _edit(engine: Engine, account: Account, who: dict, lang: str) -> None:
    """Role, subaccounts and IP allow-list in one form; password, two-step verification and disabling
    apart, each with its own button."""
    with st.form(f"users.edit.{account.email}"):
        role = st.selectbox(t("users.role", lang), ROLES, index=ROLES.index(account.role),
                            format_func=lambda r: t(f"role.{r}", lang))
        subaccounts = st.text_area(t("users.subaccounts", lang), "\n".join(account.subaccounts),
                                   help=t("users.list_help", lang))
        ip_allow = st.text_area(t("users.ip_allow", lang), "\n".join(account.ip_allow), help=t("users.ip_help", lang))
        if st.form_submit_button(t("users.save", lang), type="primary"):
            changed = True
            if role != account.role:
                changed = _attempt(lang, accounts.set_role, engine, account.email, role, **who) is not None
            if changed and tuple(_lines(subaccounts)) != account.subaccounts:
                changed = _attempt(lang, accounts.set_subaccounts, engine, account.email, _lines(subaccounts),
                                   **who) is not None
            if changed and tuple(_lines(ip_allow)) != account.ip_allow:
                changed = _attempt(lang, accounts.allow_ip, engine, account.email, _lines(ip_allow), **who) is not None
            if changed:
                st.success(t("users.saved", lang), icon=":material/check_circle:")
    with st.form(f"users.password.{account.email}", clear_on_submit=True):
        password = st.text_input(t("users.new_password", lang), type="password")
        if st.form_submit_button(t("users.reset_password", lang)) and _attempt(
                lang, accounts.set_password, engine, account.email, password, **who) is not None:
            st.success(t("users.password_reset", lang), icon=":material/check_circle:")
    _totp(engine, account, who, lang)
    if account.active and st.button(t("users.disable", lang), icon=":material/person_off:",
                                    key=f"users.disable.{account.email}"):
        if _attempt(lang, accounts.disable, engine, account.email, **who) is not None:
            st.rerun()


def _totp(engine: Engine, account: Account, who: dict, lang: str) -> None:
    """Two-step verification: turning it on shows the QR code (and the secret) once, for enrolment."""
    key = f"users.totp.{account.email}"
    if st.toggle(t("users.totp", lang), value=account.totp_enabled, key=f"{key}.{account.totp_enabled}") \
            != account.totp_enabled:
        secret = _attempt(lang, accounts.set_totp, engine, account.email, not account.totp_enabled, **who)
        st.session_state[key] = secret
        st.rerun()
    secret = st.session_state.get(key)
    if secret and account.totp_enabled:
        uri = accounts.totp_uri(account.email, secret)
        st.info(t("users.totp_enrol", lang), icon=":material/qr_code_2:")
        st.image(segno.make(uri, error="m").svg_data_uri(scale=5), width=220)
        st.code(secret, language=None)


def _tokens(engine: Engine, who: dict, lang: str) -> None:
    """System users: create (the token is shown once), list, revoke."""
    st.subheader(t("users.tokens", lang), anchor=False)
    with st.form("users.token.create", clear_on_submit=True):
        name = st.text_input(t("users.token_name", lang))
        subaccounts = st.text_input(t("users.subaccounts", lang), help=t("users.token_scope_help", lang))
        if st.form_submit_button(t("users.token_create", lang), icon=":material/key:"):
            plain = _attempt(lang, accounts.create_token, engine, name, _lines(subaccounts), **who)
            if plain is not None:
                st.success(t("users.token_shown_once", lang), icon=":material/key:")
                st.code(plain, language=None)
    tokens = accounts.list_tokens(engine)
    if not tokens:
        return
    st.dataframe(
        [{
            t("users.token_name", lang): tok.name,
            t("users.subaccounts", lang): ", ".join(tok.subaccounts) or t("users.every_subaccount", lang),
            t("users.created", lang): tok.created_at.strftime("%Y-%m-%d %H:%M"),
            t("users.revoked", lang): tok.revoked_at.strftime("%Y-%m-%d %H:%M") if tok.revoked_at else "",
        } for tok in tokens],
        hide_index=True, width="stretch",
    )
    live = [tok.name for tok in tokens if tok.revoked_at is None]
    if live:
        pick_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        name = pick_col.selectbox(t("users.token_name", lang), live, key="users.token.revoke_pick")
        if button_col.button(t("users.token_revoke", lang), icon=":material/block:", key="users.token.revoke"):
            revoke = lambda: accounts.revoke_token(engine, name, **who) or True  # noqa: E731 (None on success)
            if _attempt(lang, revoke):
                st.rerun()


run = current_run()
if session.is_admin(run.account):
    lang = run.lang
    db = database(lang)
    if db is not None:
        who = {"actor": run.account.email, "address": st.context.ip_address}
        st.header(t("page.users", lang), anchor=False)
        _add_form(db.engine, who, lang)
        everyone = accounts.list_accounts(db.engine)
        _table(everyone, lang)
        picked = st.selectbox(t("users.pick", lang), [a.email for a in everyone], key="users.pick")
        chosen = next((a for a in everyone if a.email == picked), None)
        if chosen is not None:
            _edit(db.engine, chosen, who, lang)
        _tokens(db.engine, who, lang)
