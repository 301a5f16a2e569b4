"""Files from a search: CSV, XLSX and PDF, plus the charts both the pages and the PDF draw.

`exports.export.export()` is the one entry point (the command line `python -m exports`, the pages'
download buttons and the benchmark use it); `exports.rows` fetches and localises the rows every format
writes. No Streamlit import here: the command line and the tests use it directly.
"""
