"""Card numbers (PANs) told apart from other digits, and masked.

A PAN here is a Luhn-valid run of 13 to 19 digits, written together or in up to 5 groups
parted by single spaces or dashes (``4111 1111 1111 1111``, ``4111-1111-1111-1111``). A longer
unbroken run (an order number of 24 digits) is not one; within a grouped run, any
consecutive groups that make a PAN are found, so a card number followed by other digits
(``4111 1111 1111 1111 123``) is still caught. A masked PAN keeps what PCI DSS 3.3
allows to be shown: the BIN (first 6 digits) and the last 4.
"""

from __future__ import annotations

import re

PAN_MIN_DIGITS = 13
PAN_MAX_DIGITS = 19
# Written in at most 5 groups (4-4-4-4-3 for 19 digits); also what bounds the work on a
# hostile text of single digits.
PAN_MAX_GROUPS = 5
BIN_DIGITS = 6
LAST_DIGITS = 4
MASK = "*"

# Digit groups parted by single spaces or dashes; only runs that can hold a PAN.
_RUN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
_ENOUGH_DIGITS = re.compile(r"(?:[0-9][ -]?){13}")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of ASCII digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def pan_digits(value: str) -> str | None:
    """The digits of ``value`` when the whole of it is one PAN, else None."""
    if not PAN_MIN_DIGITS <= len(value) <= PAN_MAX_DIGITS * 2 or _RUN.fullmatch(value) is None:
        return None
    digits = value.replace(" ", "").replace("-", "")
    if PAN_MIN_DIGITS <= len(digits) <= PAN_MAX_DIGITS and luhn_valid(digits):
        return digits
    return None


def masked_pan(digits: str) -> str:
    """``411111******1111``: the BIN and the last 4, the rest hidden."""
    hidden = len(digits) - BIN_DIGITS - LAST_DIGITS
    return digits[:BIN_DIGITS] + MASK * hidden + digits[-LAST_DIGITS:]


def find_pans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, digits)`` of each PAN in ``text``, left to right, not overlapping."""
    if _ENOUGH_DIGITS.search(text) is None:  # the common case, answered at once
        return []
    found: list[tuple[int, int, str]] = []
    for run in _RUN.finditer(text):
        groups = [(group.start(), group.end()) for group in _GROUP.finditer(run.group())]
        offset = run.start()
        first = 0
        while first < len(groups):
            span = _longest_pan(run.group(), groups, first)
            if span is None:
                first += 1
                continue
            last, digits = span
            found.append((offset + groups[first][0], offset + groups[last][1], digits))
            first = last + 1
    return found


def _longest_pan(run: str, groups: list[tuple[int, int]], first: int) -> tuple[int, str] | None:
    """The last group index and digits of the longest PAN starting at group ``first``."""
    best: tuple[int, str] | None = None
    digits = ""
    for index in range(first, min(first + PAN_MAX_GROUPS, len(groups))):
        start, end = groups[index]
        digits += run[start:end]
        if len(digits) > PAN_MAX_DIGITS:
            break
        if len(digits) >= PAN_MIN_DIGITS and luhn_valid(digits):
            best = (index, digits)
    return best


def mask_text(text: str) -> str:
    """``text`` with every PAN in it masked (``masked_pan``); other digits as they are."""
    found = find_pans(text)
    if not found:
        return text
    parts: list[str] = []
    at = 0
    for start, end, digits in found:
        parts.append(text[at:start])
        parts.append(masked_pan(digits))
        at = end
    parts.append(text[at:])
    return "".join(parts)
