"""Data layer of the WhatsApp Detailed Report: schema, engines, filters, ingest and queries.

Nothing in this package imports Streamlit: the command line, the exports and the tests use it directly.
"""
