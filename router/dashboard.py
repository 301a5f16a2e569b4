"""The dashboard's router (served by `app.py`): settings shared by every page, the signed-in account,
then the navigation: one page per registered report view (`data_access.views.VIEWS`, in order, at
its path: /sent, /received...), then the other report pages (`PAGES`: /chat, /opt-out), the root URL
opening the first view with the link's query parameters. Administrators also get the Usuários and
audit log pages.

The router lives in a folder of its own: beside a `pages/` folder, Streamlit would serve a process's
first request in its old pages-folder mode (every file of `pages/` a page, /opt-out not among them:
"Page not found") until a first `st.navigation` call; here the router's navigation is the only one.
"""
from pathlib import Path

import streamlit as st

from data_access.i18n import t
from data_access.views import PAGES, VIEWS
from pages import chrome, search_state, session
from pages import run as runs

run = runs.start_run()
# An emoji icon: a Material icon as the page icon makes the browser fetch it from an outside font host.
st.set_page_config(page_title=t("app.title", run.lang), page_icon="💬", layout="wide")
chrome.dress(run.lang)
run = runs.signed_in(run, *session.require_account(run.lang))

PROJECT = Path(__file__).resolve().parent.parent  # the pages' scripts are named from here
report_pages = [(st.Page(PROJECT / v.page, title=v.title(run.lang), icon=v.icon, url_path=v.path), v)
                for v in VIEWS.values()]
other_reports = [st.Page(PROJECT / p.page, title=p.title(run.lang), icon=p.icon, url_path=p.path)
                 for p in PAGES.values()]


def home() -> None:
    """The root URL: the first report view, keeping the link's search."""
    st.switch_page(report_pages[0][0], query_params=run.url)


admin_pages = [
    st.Page(PROJECT / script, title=t(title_key, run.lang), icon=icon, url_path=path)
    for script, title_key, icon, path in runs.ADMIN_PAGES
] if session.is_admin(run.account) else []
root = st.Page(home, title=t("app.title", run.lang), default=True, visibility="hidden")
# Our own row of links instead of Streamlit's menu (see `chrome.view_switch`, drawn below).
page = st.navigation([root, *(p for p, _ in report_pages), *other_reports, *admin_pages], position="hidden")
run = runs.routed(run, next((view for p, view in report_pages if p is page), None))
session.account_bar(run.account, run.lang)


def view_links(shown_query: dict[str, list[str]] | None) -> list[tuple[st.Page, dict[str, list[str]] | None]]:
    """The view switch's links, the open view's carrying `shown_query`."""
    return [
        *((p, shown_query if p is page else search_state.opening_query(view.filters, run)) for p, view in report_pages),
        *((p, {"lang": [run.lang], "tz": [run.tz]}) for p in other_reports),
        *((p, None) for p in admin_pages),
    ]


# The row of views, drawn before the page (with the link's query) and again once the page published
# its search, in place and of the same size, so the page under it never moves; again only when the
# page changed a link (its search, or another view's opening search that follows it): a row drawn
# twice costs a dozen messages a run.
switch = st.empty()
first_links = view_links(run.url if run.url_changed else search_state.published_query() or run.url)
with switch.container():
    chrome.view_switch(first_links, key="view-switch-first")
runs.header(run)
page.run()
final_links = view_links(search_state.published_query())
if final_links != first_links:
    with switch.container():
        chrome.view_switch(final_links)
