"""What one account (or API token) may see: every subaccount, or a few named ones (SPEC section 9).

A `Scope` travels inside every filter value, so `where()` narrows every query by it: figures, option
lists, detail rows, exports and saved searches obey the same rule.
"""
from __future__ import annotations

import re

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Scope:
    """`all` (admins, unscoped tokens, the demo before any account exists) or `subaccounts`."""

    all: bool = False
    subaccounts: tuple[str, ...] = ()

    ALL: ClassVar[Scope]

    def __post_init__(self) -> None:
        object.__setattr__(self, "subaccounts", tuple(sorted(set(self.subaccounts))))

    def allows(self, subaccount: str | None) -> bool:
        """Whether a row attributed to `subaccount` is visible (None: admins only)."""
        return self.all or (subaccount is not None and subaccount in self.subaccounts)


Scope.ALL = Scope(all=True)


def business_number_key(number: object) -> str | None:
    """A business number as stored and mapped: the digits of a phone number ('+55 11 4000-0000' ->
    '551140000000'), any other name (a bot's) stripped; None when empty."""
    if number is None:
        return None
    cleaned = str(number).strip()
    if re.fullmatch(r"[+\d\s().-]+", cleaned) and re.search(r"\d", cleaned):
        return re.sub(r"\D", "", cleaned)
    return cleaned or None
