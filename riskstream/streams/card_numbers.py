"""Card numbers (PANs) told apart from other digits, and masked: the core's
(``native/src/tokens/pans.rs``), the one implementation ingest, replay and dead letters
share.

A PAN there is a Luhn-valid run of 13 to 19 digits, written together or in up to 5 groups
parted by single spaces or dashes (``4111 1111 1111 1111``, ``4111-1111-1111-1111``); a
card number followed by other digits (``4111 1111 1111 1111 123``) is still caught. A
masked PAN keeps what PCI DSS 3.3 allows to be shown: the BIN (first 6 digits) and the
last 4 (``411111******1111``).
"""

from __future__ import annotations

from riskstream.core import mask_text, pan_digits

__all__ = ["mask_text", "pan_digits"]
