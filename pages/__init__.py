"""The report's pages (routed by `app.py` with `st.navigation`) and the helpers they share."""
