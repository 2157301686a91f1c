"""Settings are validated once, at load: every bad value is one line naming the key and range."""

from __future__ import annotations

import dataclasses
import pickle
import re
import tomllib
from datetime import date, timedelta

import pytest
from conftest import ROOT, run_cli

from photoguard.errors import ConfigError
from photoguard.settings import (
    Policy,
    Settings,
    available_cores,
    cap_workers,
    load_settings,
    require_current_consent,
)


def load(tmp_path, text: str):
    path = tmp_path / "photoguard.toml"
    path.write_text(text)
    return load_settings(path)


@pytest.mark.parametrize(
    "toml, words",
    [
        ("[policy]\ntext_padding = -30", "text_padding = -30 is out of range: allowed 0 to 200"),
        ("[policy]\nmatch_threshold = 0.9", "match_threshold = 0.9 is out of range"),
        ("[policy]\nmatch_threshold = 5.0", "allowed more than 0, up to 0.6"),
        ("[policy]\nmatch_threshold_minor = 0.55", "match_threshold_minor = 0.55 is out of range"),
        ("[policy]\nmatch_margin = 0", "match_margin = 0 is out of range"),
        ("[policy]\nsubject_share = 1.5", "subject_share = 1.5 is out of range"),
        ("[policy]\nsubject_share = 'lots'", "subject_share = 'lots' must be a number"),
        ("[policy]\nface_mask_scale = 0.5", "face_mask_scale = 0.5 is out of range: allowed 1.0"),
        ("[policy]\nmax_pixels = 10", "allowed 1_000_000 to 1_000_000_000"),
        ("[policy]\ntext_padding = 4.5", "text_padding = 4.5 must be a whole number"),
        ("[policy]\ntext = 'yes'", "text = 'yes' must be true or false"),
        ("[policy]\nface_style = 'smudge'", "face_style = 'smudge' must be one of"),
        ("[policy]\nsubject_action = 'ignore'", "subject_action = 'ignore' must be one of"),
        ("[policy]\nface_detectors = []", "face_detectors may not be empty"),
        ("[policy]\nchannel = ' '", "channel = ' ' may not be empty"),
        ("[policy]\ntext_allow = ['/(unclosed/']", "text_allow entry '(unclosed' is not a valid"),
        ("[policy]\ntext_allow = ['']", "text_allow may not hold an empty phrase"),
        ("[policy]\nbarcode_allow = ['[a-']", "barcode_allow entry '[a-' is not a valid regular"),
        ("[polcy]\ntext = false", "[polcy] is not a section; did you mean policy?"),
        ("[policy]\ntext_pading = 3", "text_pading is not a setting; did you mean text_padding?"),
        ("[registry]\ntemplate_retention_days = 0", "[registry] template_retention_days = 0 is"),
        ("[registry]\ntemplate_retention_days = 5000", "allowed 1 to 1095"),
        ("[registry]\nurll = 'x'", "urll is not a setting; did you mean url?"),
        ('[registry.forms."F1"]\ntitel = "x"', "forms.F1.titel is not a setting"),
    ],
)
def test_bad_settings_are_one_line_naming_key_and_range(tmp_path, toml, words):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, toml + "\n")
    message = str(info.value)
    assert words in message
    assert message.startswith("photoguard.toml: [")
    assert "\n" not in message and "pydantic" not in message
    assert info.value.exit_code == 2


def test_policy_built_in_code_is_validated_too():
    with pytest.raises(ConfigError, match="text_padding"):
        Policy(text_padding=-1)
    with pytest.raises(ConfigError, match="match_threshold"):
        dataclasses.replace(Policy(), match_threshold=0.9)
    with pytest.raises(ConfigError, match="is not a setting"):
        Policy(text_pading=3)


def test_flags_are_validated_and_named(tmp_path):
    with pytest.raises(ConfigError, match=r"^command line: \[policy\] channel"):
        load_settings(None, channel="  ")


def test_allow_list_is_parsed_once_into_phrases_and_patterns():
    policy = Policy(text_allow=("xabcx", "/abc/", "Campaign 2026", "/^St\\.? Mary/"))
    assert policy.text_allow_phrases == ("xabcx", "Campaign 2026")  # xabcx was dropped
    assert policy.text_allow_patterns == ("abc", "^St\\.? Mary")
    assert Policy(text_allow="Only one").text_allow_phrases == ("Only one",)


def test_the_shipped_policy_file_documents_every_key_with_its_default_and_range():
    text = (ROOT / "photoguard.toml").read_text()
    table = tomllib.loads(text)["policy"]
    defaults = dataclasses.asdict(Policy())
    assert set(table) == set(defaults)
    assert load_settings(ROOT / "photoguard.toml").policy == Policy()
    for key, info in Policy.__pydantic_fields__.items():
        allowed = (info.json_schema_extra or {}).get("allowed")
        if allowed:
            line = next(ln for ln in text.splitlines() if ln.startswith(f"{key} ="))
            assert f"allowed {allowed}" in line, f"{key}: document 'allowed {allowed}'"


def test_policy_travels_to_worker_processes_and_hashes_stably():
    policy = Policy(channel="instagram", text_allow=("/x+/",))
    assert pickle.loads(pickle.dumps(policy)) == policy
    assert pickle.loads(pickle.dumps(policy)).digest() == policy.digest()


def test_workers_are_capped_at_the_cores_available():
    cores = available_cores()
    assert cap_workers(1) == (1, None)
    assert cap_workers(cores) == (cores, None)
    capped, note = cap_workers(1000)
    assert capped == cores and note and "1000" in note and str(cores) in note


def test_workers_1000_runs_with_a_note(tmp_path):
    result = run_cli("check", "samples/coffee.png", "--no-registry", "--workers", "1000")
    assert result.returncode in (0, 1), result.stderr
    assert re.search(r"--workers 1000 capped at \d+", result.stderr)


def test_redact_publishes_under_todays_consent_only(tmp_path):
    past = date.today() - timedelta(days=30)
    with pytest.raises(ConfigError, match="redact publishes copies today"):
        require_current_consent(Settings(as_of=past))
    require_current_consent(Settings(as_of=date.today()))
    require_current_consent(Settings())
    result = run_cli(
        "redact", "samples/coffee.png", "--out", str(tmp_path / "out"), "--no-registry",
        "--as-of", past.isoformat(),
    )  # fmt: skip
    assert result.returncode == 2
    assert "is for check only" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_library_refuses_to_publish_under_a_past_date(tmp_path):
    from photoguard.pipeline import CheckContext, redact_paths

    past = Settings(as_of=date.today() - timedelta(days=1))
    with pytest.raises(ConfigError, match="as of today"):
        list(redact_paths([ROOT / "samples" / "coffee.png"], tmp_path / "out", CheckContext(past)))
    assert not (tmp_path / "out").exists()
