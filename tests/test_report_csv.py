"""The CSV report: one row per file, and no cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import shutil

from conftest import SAMPLES, run_cli

from photoguard.report.csv import neutral


def test_formula_cells_are_neutralised():
    for cell in ("=1+2", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutral(cell) == "'" + cell
    for cell in ("photo.jpg", "a=b", 3, ""):
        assert neutral(cell) == cell


def test_file_names_that_look_like_formulas_are_text_in_the_csv(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    names = ["=HYPERLINK(1).png", "+1.png", "-cmd.png", "@SUM(A1).png"]
    for name in names:
        shutil.copy(SAMPLES / "coffee.png", folder / name)
    report = tmp_path / "r.csv"
    # Run inside the folder: the paths in the report are then the bare file names.
    result = run_cli("check", ".", "--no-registry", "-j", "1", "--csv", str(report), cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    with report.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(names)
    for entry in rows:
        for value in entry.values():
            assert not value.startswith(("=", "+", "-", "@")), value
    # the path is still there, readable: only the leading apostrophe was added
    assert sorted(r["path"] for r in rows) == sorted("'" + n for n in names)
