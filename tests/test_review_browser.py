"""``photoguard review`` end to end: real photos, real models, a real registry, a real browser.

Two enrolled people share one reference photo (twins, at the limit), so the astronaut in
samples/visit.jpg is an ambiguous match: the file is ``review``. A person resolves it on the
review page in headless Chromium (Selenium + Debian's chromium-driver), or from the command
line; later checks honour the decision until the authorization ends, and the audit trail stays
intact.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import _DATA_HOME, PHOTOGUARD, ROOT, SAMPLES, run_cli, unavailable

pytestmark = pytest.mark.slow

EILEEN = ROOT / "consents" / "people" / "eileen-collins.png"
DOCUMENT = ROOT / "consents" / "signed" / "eileen-collins-PG-AUTH-2026-01.png"
FAST = ("-j", "1", "--as-of", "2026-06-01")  # every stage: with OCR off a file is review
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def twins(tmp_path):
    """A registry with two people enrolled from the same photo, and a folder with visit.jpg."""
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    ids = []
    for name in ("Twin One", "Twin Two"):
        added = run_cli(
            "--db", db, "consent", "add", "--name", name, "--photo", str(EILEEN),
            "--document", str(DOCUMENT), "--channel", "website", "--purpose", "marketing",
            "--signed-on", "2026-01-10", "--received-on", "2026-01-11", "--expires",
            "2027-01-10", "--role", "visitor", "--json", "--force",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        ids.append(json.loads(added.stdout)[0]["id"])
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(SAMPLES / "visit.jpg", folder / "visit.jpg")
    return db, ids, folder


def _check(db: str, folder: Path, tmp_path: Path, *args: str) -> dict:
    report = tmp_path / "check.json"
    result = run_cli("--db", db, "check", str(folder), "--json", str(report), *FAST, *args)
    assert result.returncode in (0, 1, 4, 5), result.stderr
    [entry] = json.loads(report.read_text())["files"]
    return entry


def _start_review(db: str, folder: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "XDG_DATA_HOME": _DATA_HOME}
    env.pop("PHOTOGUARD_CONFIG", None)
    proc = subprocess.Popen(
        [str(PHOTOGUARD), "--db", db, "review", str(folder), "--no-browser", "--reviewer",
         "Test Reviewer", *FAST],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    for line in proc.stdout:
        if "http://" in line:
            return proc, "http://" + line.split("http://", 1)[1].split()[0]
    proc.wait(timeout=60)
    raise AssertionError(f"review printed no address: {proc.stderr.read()}")


def _listening_on(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for row in fh.readlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
                 "--disable-dev-shm-usage", "--no-first-run"):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def test_confirm_in_the_browser_then_check_honours_it_until_revoked(twins, tmp_path):
    if not (CHROMIUM and DRIVER):
        unavailable("chromium and chromium-driver not installed (.ci/run installs them)")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    db, (one, two), folder = twins
    assert _check(db, folder, tmp_path)["verdict"] == "review"
    proc, url = _start_review(db, folder)
    try:
        port = int(url.split(":")[2].split("/")[0])
        assert _listening_on(port) == {"0100007F"}  # 127.0.0.1, nothing else
        assert _status(url.rsplit("/", 2)[0] + "/") == 404  # no token, no page
        browser = _browser()
        try:
            browser.get(url)
            card = browser.find_element(By.CSS_SELECTOR, "article.card")
            assert card.get_attribute("data-verdict") == "review"
            assert "face 1 · review" in card.text and "Twin One" in card.text
            card.find_element(By.CSS_SELECTOR, f'button[data-choice="is:{one}"]').click()
            WebDriverWait(browser, 300).until(
                ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".decided"), "Test Reviewer")
            )
            card = browser.find_element(By.CSS_SELECTOR, "article.card")
            assert card.get_attribute("data-verdict") == "redact"  # the bystander still is
            assert "face 1 · keep" in card.text
            browser.save_screenshot(str(tmp_path / "review.png"))
        finally:
            browser.quit()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    entry = _check(db, folder, tmp_path)
    assert entry["verdict"] == "redact", entry["reasons"]
    face = entry["regions"][0]
    assert face["action"] == "keep" and face["authorization"] == one and face["reviewed"]
    verify = run_cli("--db", db, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    exported = run_cli("--db", db, "audit", "export").stdout.splitlines()
    [review] = [json.loads(e) for e in exported if '"action":"review"' in e]
    assert review["payload"]["reviewer"] == "Test Reviewer"
    assert review["payload"]["authorization"] == one and review["payload"]["box"] == face["box"]
    revoke = run_cli("--db", db, "consent", "revoke", one, "--received", "2026-05-01",
                     "--reason", "asked in writing")  # fmt: skip
    assert revoke.returncode == 0, revoke.stderr
    after = _check(db, folder, tmp_path)
    assert after["regions"][0]["action"] == "redact" and after["regions"][0]["match"] == "revoked"


def test_decide_from_the_command_line(twins, tmp_path):
    db, (one, two), folder = twins
    photo = folder / "visit.jpg"
    listed = run_cli("--db", db, "review", "list", str(folder), "--json", *FAST[2:])
    assert listed.returncode == 0, listed.stderr
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["face"] == 1 and set(row["candidates"]) == {one, two}
    decide = ("--db", db, "review", "decide", str(photo), "--as-of", "2026-06-01")
    assert run_cli(*decide, "--face", "1", "--is", "AUTH-000009").returncode == 2
    not_uncertain = run_cli(*decide, "--face", "2", "--not")  # the bystander: no match to doubt
    assert not_uncertain.returncode == 2 and "not uncertain" in not_uncertain.stderr
    assert run_cli(*decide, "--face", "1").returncode == 2  # neither --is nor --not
    confirmed = run_cli(*decide, "--face", "1", "--is", two, "--reviewer", "Script")
    assert confirmed.returncode == 0, confirmed.stderr
    entry = _check(db, folder, tmp_path)
    assert entry["regions"][0]["authorization"] == two and entry["verdict"] == "redact"
    assert entry["regions"][1]["action"] == "redact"
    assert run_cli(*decide, "--face", "1", "--not").returncode == 0
    entry = _check(db, folder, tmp_path)
    assert [r["action"] for r in entry["regions"]] == ["redact", "redact"]
    assert entry["verdict"] == "redact" and entry["regions"][0]["reviewed"]
    assert "ruled out in review" in " ".join(entry["reasons"])
    assert run_cli("--db", db, "audit", "verify").returncode == 0
