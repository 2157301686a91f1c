"""Word-level tests behind ``phi.classify``: pure functions of one word or string."""

from __future__ import annotations

import re

from photoguard.detect import phi_patterns as pat


def digitish(token: str) -> str:
    """OCR's letter-for-digit swaps undone in tokens that are mostly digits."""
    digits = sum(c.isdigit() for c in token)
    return (
        token.translate(pat.DIGITISH)
        if digits and digits >= 0.5 * sum(c.isalnum() for c in token)
        else token
    )


def may_be_number(text: str) -> bool:
    """Whether a reading may hold a number: a digit, or a word of two or more characters that
    are all OCR's look-alikes of digits (``DIGITISH``: "lOlO" for 1010, "OI/IO" for 01/10), a
    number read wholly as letters, which ``digitish`` (it needs a digit to start from) leaves
    alone."""
    if any(c.isdigit() for c in text):
        return True
    for word in text.split():
        chars = [c for c in word if c.isalnum() or c == "|"]
        if len(chars) >= 2 and all(c in _LOOKALIKES for c in chars):
            return True
    return False


_LOOKALIKES = frozenset(chr(k) for k in pat.DIGITISH)


def plausible_date(s: str) -> bool:
    nums = [int(x) for x in re.findall(r"\d+", s)]
    if len(nums) == 2 and "/" in s:
        return 1 <= nums[0] <= 12 and 1 <= nums[1] <= 31
    if len(nums) < 3:
        return True  # a month name is part of it
    a, b, c = nums[:3]
    if a > 31:  # ISO y-m-d
        return 1 <= b <= 12 and 1 <= c <= 31
    return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= a <= 31 and 1 <= b <= 12)


def old_age(word) -> bool:
    """Whether a labelled age's word may be 90 or over: anything but a number under 90, which
    may carry its unit glued on as PP-OCR reads it (``78y``, ``78yo``, ``78yrs``)."""
    if re.fullmatch(r"(?i)(y|yo|yr|yrs|y/o|years?|old)\.?", word.text):
        return False  # the unit as a word of its own, as Tesseract reads "49 y"
    text = re.sub(r"(?i)(?<=\d)(y|yo|yr|yrs|y/o)\.?$", "", word.text)
    digits = re.sub(r"\D", "", digitish(text))
    return not digits or int(digits) >= 90 or not text.isdigit()


_UNIT = r"(?i)(y|yo|yr|yrs|y/o|years?|old)\.?"


def young_age(words) -> bool:
    """Whether a labelled age's value starts with a clean number under 90: its leading words
    that are numbers (a unit glued on or not) or units, their digits taken together ("9 2"
    is 92, fail closed). Words after that run ("Age: 31 y" joined to the next field on the
    line) are not the age: other rules classify them."""
    digits = ""
    for w in words:
        if re.fullmatch(_UNIT, w.text):
            continue
        text = re.sub(r"(?i)(?<=\d)(y|yo|yr|yrs|y/o)\.?$", "", w.text)
        if not text.isdigit():
            break
        digits += text
    return bool(digits) and int(digits) < 90


def glued_name(word: str) -> bool:
    """A name as PP-OCR reads it without comma and spaces: ``LAST, FIRST M`` in capitals
    ("OKAFORHIROSHIA": a surname of 3+ letters, a given name of 4+, perhaps an initial), or two
    capitalised names one of them a given name ("Tanaka.Linda", "KevinTanaka": the period is
    gone from ``word``)."""
    two = re.fullmatch(r"([A-Z][a-z'-]+)([A-Z][a-z'-]+)", word)
    if two:
        if pat.STAFF.fullmatch(two.group(1)):
            return False  # "Nurse：Mark" (a full-width colon, not cut): the carer's name
        return any(x.lower() in pat.NAMES for x in two.groups())
    if len(word) < 8 or not word.isupper() or not word.isalpha():
        return False
    low = word.lower()
    return any(
        low[k : len(low) - tail] in pat.NAMES
        and not any(len(x) >= 4 and x in low[:k] for x in pat.NOT_NAME)  # "PATIENTSUMMARY"
        for tail in (0, 1)
        for k in range(3, len(low) - tail - 3)
    )


def capitalised(w: str) -> bool:
    return (
        len(w) >= 2
        and w[0].isupper()
        and w.lower() not in pat.NOT_NAME
        and w[1:].replace("'", "").replace("-", "").isalpha()
    )


def norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def close(a: str, b: str) -> bool:
    """Equal up to OCR noise: edit distance 0 (<= 3 chars), 1 (<= 7), 2 (longer)."""
    if a == b:
        return True
    budget = 0 if len(b) <= 3 else 1 if len(b) <= 7 else 2
    if not budget or abs(len(a) - len(b)) > budget:
        return False
    return edit_distance(a, b) <= budget


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions of one character."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
