"""What Streamlit draws around the report, fitted to the page's language and to keyboards: the
document's language (`<html lang>`, which screen readers use to pick a voice), Streamlit's own English
words (labels read by screen readers, tooltips, the skip link) in the page's language, and a focus
ring that shows where the keyboard is.

Streamlit 1.67 has no setting for either: its index page says `lang="en"` and its widgets carry
English labels. A small script (our own text, no user input in it) sets the attribute and swaps the
known English words for the catalog's as they appear. The date picker's month and weekday names
follow the browser's language (Streamlit reads `navigator.language`), which no page can change.
"""
from __future__ import annotations

import json

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
    "Pagination": "ui.pagination",
    "Previous page": "ui.previous_page",
    "Next page": "ui.next_page",
}
# Streamlit's English around a name it fills in ("Data start date"): catalog key taking `{name}`.
_ENDINGS = {" start date": "ui.start_date", " end date": "ui.end_date"}
_BEGINNINGS = {"Remove ": "ui.remove", "Help for ": "ui.help_for", "Page ": "ui.page", "day, ": "ui.day",
               "month, ": "ui.month", "year, ": "ui.year"}

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

_SCRIPT = """<script>
(() => {
  const state = window.reportChrome = window.reportChrome || {};
  state.lang = %(lang)s; state.words = %(words)s; state.endings = %(endings)s; state.beginnings = %(beginnings)s;
  document.documentElement.lang = state.lang;
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
    const elements = root.querySelectorAll ? [root, ...root.querySelectorAll("[aria-label],[title],[placeholder]")] : [];
    for (const el of elements) for (const name of ["aria-label", "title", "placeholder"]) {
      const ours = el.getAttribute && say(el.getAttribute(name));
      if (ours) el.setAttribute(name, ours);
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.currentNode; node; node = walker.nextNode()) {
      if (node.nodeType !== Node.TEXT_NODE) continue;
      const ours = state.words[node.nodeValue.trim()];
      if (ours) node.nodeValue = ours;
    }
  };
  state.fix = fix;
  if (!state.observer) {
    state.observer = new MutationObserver((changes) => {
      if (document.documentElement.lang !== state.lang) document.documentElement.lang = state.lang;
      for (const change of changes) {
        if (change.type === "attributes") { state.fix(change.target); continue; }
        if (change.type === "characterData") { state.fix(change.target.parentNode || change.target); continue; }
        for (const node of change.addedNodes) state.fix(node.nodeType === Node.TEXT_NODE ? node.parentNode : node);
      }
    });
    state.observer.observe(document.documentElement, {
      subtree: true, childList: true, characterData: true, attributes: true,
      attributeFilter: ["aria-label", "title", "placeholder", "lang"],
    });
  }
  fix(document.body);
})();
</script>"""


def dress(lang: str) -> None:
    """Sets the document's language, the focus ring and Streamlit's words in `lang` (call once per run)."""
    st.html(_STYLE)
    english = lang == "en"
    values = {
        "lang": _js(lang if lang in LANGUAGES else "en"),
        "words": _js({} if english else {text: t(key, lang) for text, key in _WORDS.items()}),
        "endings": _js({} if english else {text: t(key, lang) for text, key in _ENDINGS.items()}),
        "beginnings": _js({} if english else {text: t(key, lang) for text, key in _BEGINNINGS.items()}),
    }
    with st.container(key="report-chrome"):
        st.html(_SCRIPT % values, unsafe_allow_javascript=True)


def _js(value: object) -> str:
    """`value` as a JavaScript literal that cannot end the script element it sits in."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")
