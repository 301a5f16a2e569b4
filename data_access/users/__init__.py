"""`python -m data_access.users`: accounts, roles, subaccounts, two-step verification, IP allow-lists
and API tokens from the command line (SPEC section 9); see `__main__`."""
