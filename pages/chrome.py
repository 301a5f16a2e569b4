"""What Streamlit draws around the report, fitted to the page's language and to keyboards: the
document's language (`<html lang>`, which screen readers use to pick a voice), Streamlit's own English
words (labels read by screen readers, tooltips, the skip link) in the page's language, and a focus
ring that shows where the keyboard is.

Streamlit 1.67 has no setting for any of this: its index page says `lang="en"`, its widgets carry English
labels, and its date picker names months and weekdays in the browser's language (`navigator.language`).
A small component script (our own text and the catalog's words, no user input in it) sets the
attribute, makes the page's language the one Streamlit reads as the browser's, and swaps the known
English words for the catalog's as they appear. The list is Streamlit 1.67's; tests/test_browser_ui.py
says which English is left after an upgrade.
"""
from __future__ import annotations

import functools

import streamlit as st

from data_access.config import LANGUAGES
from data_access.i18n import t

# Streamlit 1.67's built-in English, whole: the catalog key of our word for it.
_WORDS = {
    "Skip to main content": "ui.skip_to_content",
    "Sidebar": "ui.sidebar",
    "Collapse sidebar": "ui.collapse_sidebar",
    "Expand sidebar": "ui.expand_sidebar",
    "App pages": "ui.app_pages",
    "Link to heading": "ui.link_to_heading",
    "Show/hide columns": "ui.show_hide_columns",
    "Download as CSV": "ui.download_csv",
    "Search": "ui.search",
    "Type to search": "ui.type_to_search",
    "Close Search": "ui.close_search",
    "Fullscreen": "ui.fullscreen",
    "Close fullscreen": "ui.close_fullscreen",
    "Choose date range": "ui.choose_date_range",
    "Choose date": "ui.choose_date",
    "Clear dates": "ui.clear_dates",
    "Clear date": "ui.clear_date",
    "Date range": "ui.date_range",
    "Quick select a date range": "ui.quick_select",
    "Select...": "ui.select",
    "Use arrow keys to navigate dates. Enter to select. Escape to close.": "ui.calendar_keys",
    "Clear all": "ui.clear_all",
    "Clear value": "ui.clear_value",
    "No results": "ui.no_results",
    "Open": "ui.open",
    "Selected values": "ui.selected_values",
    "Multiselect options": "ui.options",
    "Selectbox options": "ui.options",
    "Sort ascending": "ui.sort_ascending",
    "Sort descending": "ui.sort_descending",
    "Pin column": "ui.pin_column",
    "Unpin column": "ui.unpin_column",
    "Hide column": "ui.hide_column",
    "Pagination": "ui.pagination",
    "Previous page": "ui.previous_page",
    "Next page": "ui.next_page",
}
# Streamlit's English around a name it fills in ("Data start date"): catalog key taking `{name}`.
_ENDINGS = {" start date": "ui.start_date", " end date": "ui.end_date"}
# Streamlit's English before a name it fills in ("Choose date range, novembro de 2026"): the key of our words for it.
_LABELLED = {"Choose date range": "ui.choose_date_range", "Choose date": "ui.choose_date"}
_BEGINNINGS = {"Remove ": "ui.remove", "Help for ": "ui.help_for", "Page ": "ui.page", "day, ": "ui.day",
               "month, ": "ui.month", "year, ": "ui.year"}

ROW_HEIGHT_PX = 40  # the view switch's row: the height of Streamlit's skeleton of an element not drawn yet
FOCUS_COLOR = "#0a7c5a"  # the theme's primary colour: 5.3:1 on white, 4.9:1 on the sidebar's grey-green

# A 3 px ring outside whatever has the keyboard focus (Streamlit draws a 1 px border colour change or
# nothing); text fields show it on their frame, where the border is.
_STYLE = f"""<style>
:focus-visible {{ outline: 3px solid {FOCUS_COLOR} !important; outline-offset: 2px !important; }}
input:focus-visible, textarea:focus-visible, [role="spinbutton"]:focus-visible {{ outline: none !important; }}
[data-testid="stMultiSelect"] [role="group"]:focus-within, [data-testid="stSelectbox"] [role="group"]:focus-within,
[data-testid$="RootElement"]:focus-within, [data-testid="stDateInputField"]:focus-within,
label:has(input[type="checkbox"]:focus-visible), label:has(input[type="radio"]:focus-visible) {{
  outline: 3px solid {FOCUS_COLOR} !important; outline-offset: 2px !important;
}}
.st-key-report-chrome {{ display: none; }}
</style>"""

# The component's script, run in the page (not in a frame) with the words of the run's language as
# `data`. It writes them where Streamlit wrote English, now and as Streamlit draws more, and has the
# widgets drawn again when their language changed.
_SCRIPT = """
export default function (component) {
  const { data, setTriggerValue } = component;
  const state = window.reportChrome = window.reportChrome || {drawnIn: navigator.language};
  Object.assign(state, data);
  document.documentElement.lang = state.lang;
  if (!state.told) {
    // Streamlit hands the browser's language to its calendar (month and weekday names, the picker's
    // own words) and number formats on every render: from now on that is the page's language.
    for (const [name, value] of [["language", () => state.lang], ["languages", () => [state.lang]]])
      Object.defineProperty(navigator, name, {get: value, configurable: true});
    state.told = true;
  }
  // A date picker drawn before this script ran took the browser's own language: the first time one
  // takes the focus, one more run draws it again in the page's (not at once: a run started while
  // another is under way, or while the user clicks, can lose widget values). Not after another filter
  // was touched: the run would apply its held change (and draws the picker again anyway).
  state.redraw = () => setTriggerValue("redraw", state.lang);
  if (!state.watching) {
    state.watching = true;
    const inPicker = (event) => event.target.closest?.('[data-testid^="stDateInput"]');
    for (const kind of ["pointerdown", "keydown"]) document.addEventListener(kind, (event) => {
      if (["Tab", "Shift"].includes(event.key) || inPicker(event)) return;  // moving through is no change
      if (event.target.closest?.('[data-testid="stSidebar"]')) state.drawnIn = state.lang;
    }, true);
    document.addEventListener("focusin", (event) => {
      const same = state.drawnIn.split("-")[0] === state.lang.split("-")[0];  // "en-US" writes dates as "en"
      if (same || !inPicker(event)) return;
      state.drawnIn = state.lang;
      state.redraw();
    }, true);
  }
  const say = (text) => {  // our words for Streamlit's English, or null when it has none
    if (!text) return null;
    const whole = state.words[text.trim()];
    if (whole) return whole;
    for (const [english, ours] of Object.entries(state.endings)) if (text.endsWith(english)) {
      const name = text.slice(0, -english.length);
      return ours.replace("{name}", say(name) ?? name);
    }
    for (const [english, ours] of Object.entries(state.beginnings)) if (text.startsWith(english)) {
      const name = text.slice(english.length);
      return ours.replace("{name}", say(name) ?? name);
    }
    return null;
  };
  const fix = (root) => {
    if (!root || !root.querySelectorAll) return;
    for (const el of [root, ...root.querySelectorAll("[aria-label],[title],[placeholder]")])
      for (const name of ["aria-label", "title", "placeholder"]) {
        const ours = say(el.getAttribute(name));
        if (ours) el.setAttribute(name, ours);
      }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      // whole texts anywhere; texts around a name only in the date picker (not in the data)
      const inPicker = node.parentElement?.closest('[data-testid^="stDateInput"]');
      const ours = inPicker ? say(node.nodeValue) : state.words[node.nodeValue.trim()];
      if (ours) node.nodeValue = ours;
    }
  };
  if (!state.observer) {
    state.observer = new MutationObserver((changes) => {
      if (document.documentElement.lang !== state.lang) document.documentElement.lang = state.lang;
      for (const change of changes) {
        const node = change.target;
        if (change.type === "attributes") state.fix(node);
        else if (change.type === "characterData") state.fix(node.parentElement);
        else for (const added of change.addedNodes) state.fix(added.nodeType === Node.TEXT_NODE ? added.parentElement : added);
      }
    });
    state.observer.observe(document.documentElement, {
      subtree: true, childList: true, characterData: true, attributes: true,
      attributeFilter: ["aria-label", "title", "placeholder", "lang"],
    });
  }
  state.fix = fix;
  fix(document.body);
}
"""
_COMPONENT = st.components.v2.component("report_chrome", js=_SCRIPT)


def dress(lang: str) -> None:
    """Sets the document's language, the focus ring and Streamlit's words in `lang` (call once per run)."""
    st.html(_STYLE)
    with st.container(key="report-chrome"):
        _COMPONENT(key="report-chrome-words", data=_words(lang), height=0, on_redraw_change=_redrawn)


@functools.lru_cache(maxsize=8)
def _words(lang: str) -> dict:
    """The component's data in `lang` (the catalog's words, looked up once per language, not per run;
    read, never changed)."""
    english = lang == "en"
    beginnings = {**_BEGINNINGS, **{f"{text}, ": key for text, key in _LABELLED.items()}}
    return {
        "lang": lang if lang in LANGUAGES else "en",
        "words": {} if english else {text: t(key, lang) for text, key in _WORDS.items()},
        "endings": {} if english else {text: t(key, lang) for text, key in _ENDINGS.items()},
        "beginnings": {} if english else {
            text: t(key, lang) if "{name}" in t(key, "en") else f"{t(key, lang)}, {{name}}"
            for text, key in beginnings.items()
        },
    }


def _redrawn() -> None:
    """The page asked for one more run (its widgets draw again in the page's language): nothing to do."""


def view_switch(links: list[tuple[st.Page, dict[str, list[str]] | None]], key: str = "view-switch") -> None:
    """The row of links between the views (and the administrators' pages), on the page itself: at
    phone width Streamlit's own navigation hides in the closed drawer. Each link carries the query its
    view will show (`None`: none), so opening a view adds one history entry and Back returns to the
    view left (Streamlit's navigation carries the old view's query, which the new view then rewrites:
    two entries). `key` names the row (a run that draws it twice gives each a key starting "view-switch")."""
    with st.container(horizontal=True, key=key, gap="small"):
        # The row's height from the first frame: Streamlit draws each link as a 40 px grey skeleton
        # until its code has arrived, then 20 px tall; an empty 40 px strip keeps the row as tall as the
        # skeletons, so the page under it does not move up when the links are drawn.
        st.container(height=ROW_HEIGHT_PX, width=1, border=False)
        for page, query in links:
            st.page_link(page, query_params=query)


