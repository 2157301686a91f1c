"""Exit codes of every command, in one place (README's table and each --help say the same).

The verdict codes rise with what the files need, so the worst file decides: a script can tell
"run photoguard redact" (1) from "a person must look" (4) and "cannot be published" (5).
"""

from __future__ import annotations

from collections.abc import Iterable

from photoguard.types import PhotoResult, Verdict

OK = 0
"""Every file passes as it is (redact: every file has a publishable copy)."""
REDACT = 1
"""At least one file is publishable only once redacted: run ``photoguard redact``."""
USAGE = 2
"""A bad option, policy file, path, channel or purpose."""
ENVIRONMENT = 3
"""Tesseract, a model, the registry or the disk failed: nothing was judged wrongly, retry."""
REVIEW = 4
"""At least one face match is uncertain: a person must decide (``photoguard review``)."""
BLOCK = 5
"""At least one file cannot be published (unconsented main subject, not fully checked)."""

BY_VERDICT = {
    Verdict.PASS: OK,
    Verdict.REDACT: REDACT,
    Verdict.REVIEW: REVIEW,
    Verdict.BLOCK: BLOCK,
}

CHECK_HELP = """\b
Exit codes (the worst file decides):
  0  every file passes as it is
  1  at least one file needs redaction (run photoguard redact)
  4  at least one face match needs a person's review
  5  at least one file is blocked (cannot be published)
  2  usage error (bad option, policy file, path, channel or purpose)
  3  environment problem (Tesseract, a model, the registry or the disk)"""

REDACT_HELP = """\b
Exit codes (the worst file decides):
  0  every file has a publishable copy in --out
  4  at least one file needs a person's review (listed, not written)
  5  at least one file is blocked (listed, not written)
  2  usage error (bad option, output folder and an input overlap, missing path)
  3  environment problem (Tesseract, a model, the registry or the disk), or --out
     in use by another redact run
  130  interrupted (Ctrl-C): copies written so far are complete and audited"""


def for_check(results: Iterable[PhotoResult]) -> int:
    """The worst verdict's code (0 when every file passes)."""
    return max((BY_VERDICT[r.verdict] for r in results), default=OK)


def for_redact(results: Iterable[PhotoResult]) -> int:
    """0 when every file has a publishable copy, else the worst code of those without one."""
    return max((BY_VERDICT[r.verdict] for r in results if r.output is None), default=OK)
