"""A Burmese greeting in Unicode and as a Zawgyi phone types it."""

from __future__ import annotations

UNICODE_BURMESE = "မင်္ဂလာပါ ကျွန်တော့်ကို ကူညီပါ"
ZAWGYI_BURMESE = "\u1019\u1002\u1064\u101c\u102c\u1015\u102b \u1000\u103c\u107d\u1014\u1039\u1031\u1010\u102c\u1037\u103a\u1000\u102d\u102f \u1000\u1030\u100a\u102e\u1015\u102b"  # the greeting typed in Zawgyi
