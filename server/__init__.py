"""The app server's HTTP side (SPEC 8): Starlette routes, middleware and background work that run in
the dashboard's process beside the Streamlit pages. Nothing here is imported by data_access/."""
