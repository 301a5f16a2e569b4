"""Demo data: realistic, reproducible WhatsApp traffic for the report (SPEC 5.1).

`generate(engine, rows, days, seed, end)` is the library entry point; `python -m data_access.demo`
the command line (see `__main__`).
"""
from data_access.demo.loader import DEMO_SOURCE, DemoSummary, generate

__all__ = ["DEMO_SOURCE", "DemoSummary", "generate"]
