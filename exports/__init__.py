"""Files from a search: CSV, XLSX and PDF, plus the charts both the pages and the PDF draw.

No Streamlit import here: the command line (`python -m exports`) and the tests use it directly.
"""
