"""The command line as a user meets it: exit codes, messages, reports; no tracebacks ever."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from conftest import ROOT, SAMPLES, run_cli, tree_hashes
from zoo import make_zoo

DOCUMENT = ROOT / "consents" / "signed" / "eileen-collins-PG-AUTH-2026-01.png"
VERDICTS = {"pass", "redact", "review", "block"}
REPORT_KEYS = {"path", "sha256", "verdict", "reasons", "regions"}
REGION_KEYS = {"kind", "box", "action", "authorization"}


def test_help_lists_commands_exit_codes_and_examples():
    top = run_cli("--help")
    assert top.returncode == 0
    for word in ("check", "redact", "Exit codes", "Example"):
        assert word in top.stdout
    sub = run_cli("check", "--help")
    assert sub.returncode == 0 and "Example:" in sub.stdout
    assert "3  environment problem" in sub.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["check", "no/such/folder"], "no such file or folder"),
        (["check", "samples", "--as-of", "yesterday"], "YYYY-MM-DD"),
        (["check", "samples", "--detector", "nope"], "unknown detector"),
        (["check"], "Usage"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args, message):
    result = run_cli(*args, "--no-registry") if len(args) > 1 else run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_bad_policy_file_exits_2(tmp_path):
    policy = tmp_path / "p.toml"
    policy.write_text("[policy]\nsubject_share = 'lots'\n")
    result = run_cli("--config", str(policy), "check", "samples/coffee.png", "--no-registry")
    assert result.returncode == 2
    assert "subject_share" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("key", ["text_detectors", "barcode_detectors"])
def test_an_unknown_detector_in_the_policy_is_refused_before_any_file(tmp_path, key):
    policy = tmp_path / "p.toml"
    policy.write_text(f'[policy]\n{key} = ["nope"]\n')
    result = run_cli("--config", str(policy), "check", "samples/coffee.png", "--no-registry")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "unknown detector 'nope'" in result.stderr and "Traceback" not in result.stderr


def test_missing_tesseract_is_an_environment_problem(tmp_path):
    # Only the venv on PATH: no tesseract binary can be found.
    venv_bin = str(ROOT / ".venv" / "bin")
    result = run_cli("check", "samples/coffee.png", "--no-registry", env={"PATH": venv_bin})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "tesseract" in result.stderr.lower() and "Traceback" not in result.stderr


def test_missing_tesseract_stops_a_run_with_workers_before_any_file(tmp_path):
    # With workers the models are built in the first worker, not here: the run still stops
    # with the one-line error, and writes no copy.
    venv_bin = str(ROOT / ".venv" / "bin")
    files = [str(SAMPLES / "coffee.png"), str(SAMPLES / "visit.jpg")]
    out = tmp_path / "out"
    args = ("redact", *files, "--out", str(out), "--no-registry", "--workers", "2")
    result = run_cli(*args, env={"PATH": venv_bin})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "tesseract" in result.stderr.lower() and "Traceback" not in result.stderr
    assert not any(p.is_file() and not p.name.startswith(".") for p in out.rglob("*"))


def test_zoo_of_broken_files_is_blocked_with_reasons(tmp_path):
    (tmp_path / "zoo").mkdir()
    expected = make_zoo(tmp_path / "zoo")
    report = tmp_path / "report.json"
    result = run_cli(
        "check", str(tmp_path / "zoo"), "--json", str(report), "--no-registry", "--no-text"
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 5  # blocked files
    files = {f["path"].split("/")[-1]: f for f in json.loads(report.read_text())["files"]}
    assert set(files) == set(expected)
    for name, outcome in expected.items():
        if outcome == "ok":
            assert not any(r.startswith("not checked") for r in files[name]["reasons"]), name
        else:
            entry = files[name]
            assert entry["verdict"] == "block", name
            assert entry["reasons"] and entry["reasons"][0].startswith("not checked"), name
            assert "\n" not in entry["reasons"][0]


def test_check_samples_report_shape_and_verdicts(tmp_path):
    report = tmp_path / "r.json"
    result = run_cli("check", "samples", "--json", str(report), "--no-registry")
    assert result.returncode == 5, result.stderr  # the close-up is blocked: the worst wins
    data = json.loads(report.read_text())
    assert data["version"] == 1 and len(data["policy"]["sha256"]) == 64
    by_name = {f["path"].split("/")[-1]: f for f in data["files"]}
    assert set(by_name) == {
        "astronaut.jpg",
        "closeup.jpg",
        "visit.jpg",
        "launch-gps.jpg",
        "coffee.png",
        "wristband.jpg",
    }
    for entry in data["files"]:
        assert set(entry) >= REPORT_KEYS
        for region in entry["regions"]:
            assert set(region) >= REGION_KEYS
            x0, y0, x1, y1 = region["box"]
            assert 0 <= x0 < x1 <= entry["width"] and 0 <= y0 < y1 <= entry["height"]
    assert by_name["coffee.png"]["verdict"] == "pass"
    assert by_name["closeup.jpg"]["verdict"] == "block"  # unconsented face fills the frame
    assert by_name["astronaut.jpg"]["verdict"] == "redact"  # a portrait: the face is redacted
    assert by_name["visit.jpg"]["verdict"] == "redact"
    assert [r["kind"] for r in by_name["visit.jpg"]["regions"]].count("face") == 2
    # photos without writing: OCR garbage from textures must not turn into PHI regions
    for name in ("astronaut.jpg", "visit.jpg", "closeup.jpg", "coffee.png", "launch-gps.jpg"):
        assert {r["kind"] for r in by_name[name]["regions"]} <= {"face"}, name
    band = by_name["wristband.jpg"]
    assert band["verdict"] == "redact"
    assert {"text", "barcode"} <= {r["kind"] for r in band["regions"]}
    launch = by_name["launch-gps.jpg"]
    # GPS and EXIF make the original unpublishable as it is: the copy is stripped
    assert launch["verdict"] == "redact" and "gps" in launch["metadata"]
    assert any(r.startswith("metadata to strip") and "gps" in r for r in launch["reasons"])
    # EXIF orientation 6 was applied: the stored file is portrait, the oriented image landscape
    assert (launch["width"], launch["height"]) == (640, 427)
    text = json.dumps(data)
    for phi in ("Doe", "DOE", "00482913", "1962"):
        assert phi not in text  # the report names kinds, never the PHI it found
    assert "ignored 2 plain-text files" in result.stdout
    # Only what needs attention is listed, worst first, relative to the folder given
    listed = [line.split()[:2] for line in result.stdout.splitlines()]
    rows = [(v, name) for v, name, *_ in (x + [""] for x in listed) if v in VERDICTS]
    assert rows[0] == ("block", "closeup.jpg")
    assert {name for _v, name in rows[1:]} == {
        "astronaut.jpg", "visit.jpg", "wristband.jpg", "launch-gps.jpg"}  # fmt: skip
    assert "coffee.png" not in result.stdout and "samples/visit.jpg" not in result.stdout
    assert "6 files: 1 pass, 4 redact, 0 review, 1 block" in result.stdout
    assert "1 other file not listed" in result.stdout


def test_redact_writes_verified_copies_and_never_touches_inputs(tmp_path):
    src = tmp_path / "in"
    shutil.copytree(SAMPLES, src)
    before = tree_hashes(src)
    out = tmp_path / "out"
    first = run_cli("redact", str(src), "--out", str(out), "--no-registry", "--workers", "2")
    assert "Traceback" not in first.stdout + first.stderr
    assert first.returncode == 5  # the close-up is blocked, so not everything is written
    assert "5 publishable copies in" in first.stdout and "reused" not in first.stdout
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert written == [
        "astronaut.jpg",
        "coffee.png",
        "launch-gps.jpg",
        "visit.jpg",
        "wristband.jpg",
    ]
    assert tree_hashes(src) == before
    report = tmp_path / "second.json"
    second = run_cli(
        "redact",
        str(src),
        "--out",
        str(out),
        "--no-registry",
        "--workers",
        "1",
        "--json",
        str(report),
    )
    assert second.returncode == 5
    assert "0 written now, 5 reused from an earlier run" in " ".join(second.stdout.split())
    files = json.loads(report.read_text())["files"]
    kept = [f for f in files if any("up to date" in r for r in f["reasons"])]
    assert len(kept) == 5 and all(f["output"] for f in kept)
    inside = run_cli("redact", str(src), "--out", str(src / "pub"), "--no-registry")
    assert inside.returncode == 2 and "may not be inside" in inside.stderr


@pytest.mark.parametrize(
    "files, code",
    [
        (["coffee.png"], 0),  # every file passes
        (["coffee.png", "astronaut.jpg"], 1),  # a face to redact: run redact
        (["astronaut.jpg", "closeup.jpg"], 5),  # an unconsented close-up: blocked, worst wins
    ],
)
def test_check_exit_code_is_the_worst_verdict(files, code):
    args = [str(SAMPLES / f) for f in files]
    result = run_cli("check", *args, "--no-registry", "-j", "1")  # every stage: pass can be 0
    assert result.returncode == code, result.stdout + result.stderr


def test_review_exits_4_and_block_wins_over_it(corpus, tmp_path):
    db = ("--db", f"sqlite:///{tmp_path / 'registry.db'}")
    enroll = corpus / "images" / "fr__obama.jpg"
    for name in ("Twin One", "Twin Two"):  # one face under two people: an ambiguous match
        add = run_cli(*db, "consent", "add", "--name", name, "--photo", str(enroll),
                      "--document", str(DOCUMENT),
                      "--channel", "website", "--purpose", "marketing", "--signed-on",
                      "2026-01-10", "--expires", "2030-01-10",
                      *(("--force",) if name == "Twin Two" else ()))  # fmt: skip
        assert add.returncode == 0, add.stdout + add.stderr
    query = str(corpus / "images" / "fr__obama2.jpg")
    fast = ("--no-text", "--no-barcodes", "-j", "1")
    review = run_cli(*db, "check", query, *fast)
    assert review.returncode == 4, review.stdout + review.stderr
    both = run_cli(*db, "check", query, str(SAMPLES / "closeup.jpg"), *fast)
    assert both.returncode == 5, both.stdout + both.stderr


def test_registry_failure_is_an_environment_problem(tmp_path):
    missing = tmp_path / "no-such-registry.db"
    result = run_cli("--db", f"sqlite:///{missing}", "check", str(SAMPLES / "coffee.png"))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "registry" in result.stderr and "Traceback" not in result.stderr


def test_progress_and_control_characters_when_piped(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "coffee.png", folder / "a\x1b[31mred\nline.png")
    shutil.copy(SAMPLES / "astronaut.jpg", folder / "b.jpg")
    result = run_cli("check", str(folder), "--no-registry", "-j", "1", "--all")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "checking: 2 files" in result.stderr
    assert "checking: 2/2 (100%)" in result.stderr  # the last line of the plain progress
    assert "\x1b" not in result.stdout + result.stderr
    assert "a\\x1b[31mred\\nline.png" in result.stdout


def test_an_animated_gif_counts_one_face_not_one_per_frame(tmp_path):
    from PIL import Image

    still = Image.open(SAMPLES / "astronaut.jpg").convert("RGB")
    frames = [still.crop((x, 0, x + still.width - 12, still.height)) for x in (0, 4, 8, 12)]
    gif = tmp_path / "wave.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    report = tmp_path / "r.csv"
    result = run_cli("check", str(gif), "--no-registry", "-j", "1", "--csv",
                     str(report))  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    [row] = list(csv.DictReader(report.open(newline="")))
    assert row["faces_redacted"] == "1", row
    assert "wave.gif  1 face" in result.stdout


def test_doctor_is_quiet_and_says_ok():
    result = run_cli("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr and "pkg_resources" not in result.stderr


def test_tables_at_80_columns_break_no_word(tmp_path):
    db = ("--db", f"sqlite:///{tmp_path / 'registry.db'}")
    assert run_cli(*db, "consent", "import", str(ROOT / "consents/demo.toml")).returncode == 0
    listed = run_cli(*db, "consent", "list", env={"COLUMNS": "80"})
    assert listed.returncode == 0, listed.stderr
    words = listed.stdout.split()
    for word in ("AUTH-000001", "instagram,", "marketing,", "2026-01-15", "2028-12-31"):
        assert word in words, (word, listed.stdout)
    assert all(len(line) <= 80 for line in listed.stdout.splitlines())
    narrow = run_cli(*db, "consent", "list", env={"COLUMNS": "50"})  # one block per row
    assert "2028-12-31" in narrow.stdout.split() and "instagram," in narrow.stdout.split()
    checked = run_cli("check", str(SAMPLES), "--no-registry", "--no-text", "-j", "1",
                      env={"COLUMNS": "80"})  # fmt: skip
    assert all(len(line) <= 80 for line in checked.stdout.splitlines())
    words = checked.stdout.split()
    for word in ("closeup.jpg", "unconsented", "authorization", "registry"):
        assert word in words, (word, checked.stdout)
