"""The dashboard's router (served by `app.py`): settings shared by every page, the signed-in account,
then the router. The Sent page lives at /sent, the Received page at /received; the root URL opens
Sent with the link's query parameters. Administrators also get the Usuários and audit log pages."""
import streamlit as st

from data_access.i18n import t
from pages import chrome, common, session

run = common.start_run()
# An emoji icon: a Material icon as the page icon makes the browser fetch it from an outside font host.
st.set_page_config(page_title=t("app.title", run.lang), page_icon="💬", layout="wide")
chrome.dress(run.lang)
run = common.signed_in(run, *session.require_account(run.lang))

sent = st.Page("pages/sent.py", title=t("page.sent", run.lang), icon=":material/send:", url_path="sent")
received = st.Page(
    "pages/received.py", title=t("page.received", run.lang), icon=":material/move_to_inbox:", url_path="received"
)


def home() -> None:
    """The root URL: the Sent page, keeping the link's search."""
    st.switch_page(sent, query_params=run.url)


admin_pages = [
    st.Page("pages/users.py", title=t("page.users", run.lang), icon=":material/group:", url_path="users"),
    st.Page("pages/audit.py", title=t("page.audit", run.lang), icon=":material/history:", url_path="audit"),
] if session.is_admin(run.account) else []
page = st.navigation(
    [st.Page(home, title=t("app.title", run.lang), default=True, visibility="hidden"), sent, received, *admin_pages],
    position="top",
)
session.account_bar(run.account, run.lang)
common.header(run)
page.run()
