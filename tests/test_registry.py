"""The consent registry on real SQLite files: intake, status, revocation, documents, templates."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from dataclasses import replace
from datetime import date

import pytest
from consent_support import (
    ASTRONAUT_FULL,
    CATALOG,
    COFFEE,
    EILEEN,
    FORM,
    TODAY,
    document,
    request,
)

from photoguard.consent import migrations
from photoguard.consent.errors import (
    EnrolmentError,
    IncompleteAuthorization,
    InvalidRequest,
    NotFound,
    UnknownForm,
)
from photoguard.consent.forms import FormCatalog, catalog_from_settings
from photoguard.consent.records import AuthStatus, decide_coverage
from photoguard.consent.registry import ConsentRegistry
from photoguard.types import MatchStatus


def open_registry(tmp_path, **kwargs) -> ConsentRegistry:
    kwargs.setdefault("catalog", CATALOG)
    kwargs.setdefault("clock", lambda: TODAY)
    return ConsentRegistry(f"sqlite:///{tmp_path / 'db' / 'registry.db'}", **kwargs)


@pytest.fixture
def reg(tmp_path):
    registry = open_registry(tmp_path)
    yield registry
    registry.close()


def test_added_authorization_survives_close_and_reopen(tmp_path):
    with open_registry(tmp_path) as registry:
        added = registry.add(request(tmp_path, channels=("Website", "instagram")))
    assert added.id == "AUTH-000001" and added.person_id == "PER-000001"
    with open_registry(tmp_path) as registry:
        again = registry.get("AUTH-000001")
        assert registry.schema_version == migrations.LATEST
    assert again == added
    assert again.channels == ("website", "instagram")
    assert again.discloser == FORM.discloser and again.form_version == "F-1"
    assert again.statements == FORM.statements
    assert again.signer == "Test Person" and again.received_on == date(2026, 1, 12)
    assert (tmp_path / "db" / "documents" / added.document_sha256[:2]).is_dir()


def test_incomplete_authorization_is_refused_with_every_missing_element(tmp_path, reg):
    incomplete = request(
        tmp_path, channels=(), purposes=(), expires_on=None, signed_on=None, document=None
    )
    with pytest.raises(IncompleteAuthorization) as info:
        reg.add(incomplete)
    text = str(info.value)
    for element in ("purpose", "channel", "expiration date or expiration event", "date signed",
                    "signed document"):  # fmt: skip
        assert element in text
    assert len(info.value.missing) == 5
    assert reg.list() == []
    assert not (tmp_path / "db" / "documents").exists()


def test_form_without_a_required_statement_voids_the_authorization(tmp_path):
    form = replace(FORM, statements=("revocation", "treatment-conditioning"), discloser=" ")
    catalog = FormCatalog(forms={"F-1": form}, default="F-1")
    with (
        open_registry(tmp_path, catalog=catalog) as registry,
        pytest.raises(IncompleteAuthorization) as info,
    ):
        registry.add(request(tmp_path))
    assert "redisclosure" in str(info.value) and "who discloses" in str(info.value)


def test_third_party_payment_needs_a_form_that_says_so(tmp_path, reg):
    with pytest.raises(IncompleteAuthorization, match="third party pays"):
        reg.add(request(tmp_path, third_party_remuneration=True))


def test_unknown_form_version_is_refused(tmp_path, reg):
    with pytest.raises(UnknownForm, match="F-9"):
        reg.add(request(tmp_path, form_version="F-9"))


def test_forms_are_read_from_the_policy_file_section():
    import tomllib

    from consent_support import EXAMPLE_TOML

    catalog = catalog_from_settings(tomllib.loads(EXAMPLE_TOML.read_text()))
    form = catalog.get(None)
    assert form.version == "PG-AUTH-2026-01" and form.missing() == []
    assert "remuneration" in form.statements
    with pytest.raises(UnknownForm, match="no authorization form declared"):
        FormCatalog(forms={}).get(None)


def test_a_minor_needs_a_personal_representative_with_authority(tmp_path, reg):
    child = dict(name="Kid Patient", dob=date(2015, 3, 1))
    with pytest.raises(IncompleteAuthorization, match="minor"):
        reg.add(request(tmp_path, **child))
    with pytest.raises(IncompleteAuthorization, match="authority"):
        reg.add(request(tmp_path, **child, signer="Pat Parent"))
    auth = reg.add(
        request(
            tmp_path,
            **child,
            signer="Pat Parent",
            signer_authority="parent",
            expires_event="when the patient turns 18",
        )  # fmt: skip
    )
    assert auth.signer == "Pat Parent" and auth.signer_authority == "parent"
    assert reg.person(auth.person_id).minor_on(date(2033, 2, 28))
    assert not reg.person(auth.person_id).minor_on(date(2033, 3, 1))


def test_status_is_derived_for_a_date(tmp_path, reg):
    auth = reg.add(request(tmp_path))
    assert auth.status_on(date(2026, 1, 10)) is AuthStatus.NOT_YET_EFFECTIVE  # not yet received
    assert auth.status_on(date(2026, 1, 12)) is AuthStatus.ACTIVE
    assert auth.status_on(date(2027, 1, 9)) is AuthStatus.ACTIVE
    assert auth.status_on(date(2027, 1, 10)) is AuthStatus.EXPIRED
    assert auth.valid_for("WEBSITE", "marketing", date(2026, 5, 1))
    assert not auth.valid_for("instagram", "marketing", date(2026, 5, 1))
    event = reg.add(request(tmp_path, expires_on=None, expires_event="end of campaign"))
    ended = reg.record_expiry_event(event.id, date(2026, 3, 1))
    assert ended.status_on(date(2026, 2, 28)) is AuthStatus.ACTIVE
    assert ended.status_on(date(2026, 3, 1)) is AuthStatus.EXPIRED
    assert [a.id for a in reg.list(valid_on=date(2026, 4, 1))] == [auth.id]


def test_revocation_is_effective_when_received_and_survives_a_restart(tmp_path):
    with open_registry(tmp_path) as registry:
        auth = registry.add(request(tmp_path))
        registry.revoke(auth.id, date(2026, 3, 1), "patient letter")
        with pytest.raises(InvalidRequest, match="already revoked"):
            registry.revoke(auth.id, date(2026, 3, 2), "again")
    with open_registry(tmp_path) as registry:
        again = registry.get(auth.id)
        assert len(registry.list()) == 1  # never deleted
    assert again.revocation_received_on == date(2026, 3, 1)
    assert again.revocation_reason == "patient letter"
    assert again.status_on(date(2026, 2, 28)) is AuthStatus.ACTIVE
    assert again.status_on(date(2026, 3, 1)) is AuthStatus.REVOKED


def test_unknown_ids_are_named_errors(reg):
    with pytest.raises(NotFound):
        reg.get("AUTH-999999")
    with pytest.raises(NotFound):
        reg.get("nonsense")
    with pytest.raises(NotFound):
        reg.revoke("AUTH-000042", date(2026, 1, 1), "x")


def test_expiring_lists_active_authorizations_ending_soon(tmp_path, reg):
    soon = reg.add(request(tmp_path, expires_on=date(2026, 6, 20)))
    reg.add(request(tmp_path, expires_on=date(2026, 12, 1)))
    reg.add(request(tmp_path, expires_on=date(2026, 5, 1)))  # already expired
    assert [a.id for a in reg.expiring(30)] == [soon.id]
    assert len(reg.expiring(365, today=date(2026, 2, 1))) == 3


def test_documents_are_content_addressed_read_only_and_verified(tmp_path, reg):
    shared = document(tmp_path, "the same scanned form")
    a = reg.add(request(tmp_path, document=shared))
    b = reg.add(request(tmp_path, name="Other Person", document=document(tmp_path)))
    c = reg.add(request(tmp_path, document=shared))
    assert a.document_sha256 == c.document_sha256 != b.document_sha256
    stored = reg.store.path_for(a.document_sha256)
    assert not os.stat(stored).st_mode & 0o222
    assert reg.verify_documents() == [] and reg.document_count() == 2
    os.chmod(stored, 0o644)
    stored.write_bytes(b"tampered")
    reg.store.path_for(b.document_sha256).unlink()
    problems = {p.sha256: p for p in reg.verify_documents()}
    assert problems[a.document_sha256].problem == "hash mismatch"
    assert problems[a.document_sha256].authorizations == (a.id, c.id)
    assert problems[b.document_sha256].problem == "missing"


def test_import_is_all_or_nothing_and_names_the_bad_row(tmp_path, reg):
    document(tmp_path, "form one").rename(tmp_path / "one.txt")
    document(tmp_path, "form two").rename(tmp_path / "two.txt")
    good = (
        '[[authorization]]\nname = "A One"\nchannels = ["website"]\npurposes = ["marketing"]\n'
        'signed_on = 2026-01-02\nexpires_on = 2027-01-02\ndocument = "one.txt"\n'
    )
    bad = '[[authorization]]\nname = "B Two"\nchannels = ["website"]\ndocument = "two.txt"\n'
    (tmp_path / "bad.toml").write_text(good + bad)
    with pytest.raises(IncompleteAuthorization, match="bad.toml row 2") as info:
        reg.import_file(tmp_path / "bad.toml")
    assert "purpose" in str(info.value) and "date signed" in str(info.value)
    assert reg.list() == [] and reg.document_count() == 0
    (tmp_path / "ok.csv").write_text(
        "name,channels,purposes,signed_on,expires_on,expires_event,document\n"
        "A One,website;instagram,marketing,2026-01-02,2027-01-02,,one.txt\n"
        "B Two,print,education,2026-01-03,,end of campaign,two.txt\n"
    )
    added = reg.import_file(tmp_path / "ok.csv")
    assert [a.channels for a in added] == [("website", "instagram"), ("print",)]
    (tmp_path / "typo.csv").write_text("name,chanels\nX,website\n")
    with pytest.raises(InvalidRequest, match="unknown column"):
        reg.import_file(tmp_path / "typo.csv")
    (tmp_path / "date.csv").write_text("name,signed_on\nX,01/02/2026\n")
    with pytest.raises(InvalidRequest, match="YYYY-MM-DD"):
        reg.import_file(tmp_path / "date.csv")


def test_enrolment_rejects_photos_without_exactly_one_usable_face(tmp_path, reg):
    from PIL import Image

    small = tmp_path / "small.png"
    Image.open(EILEEN).resize((160, 150)).save(small)
    for photo, reason in ((COFFEE, "no face"), (ASTRONAUT_FULL, "2 faces"),
                          (small, "at least 80 px")):  # fmt: skip
        with pytest.raises(EnrolmentError, match=reason):
            reg.add(request(tmp_path, photos=(photo,)))
    assert reg.list() == [] and reg.templates() == []


def test_templates_for_matching_say_consented_expired_revoked_or_out_of_scope(tmp_path, reg):
    first = reg.add(
        request(tmp_path, name="Eileen Collins", photos=(EILEEN, EILEEN), dob=date(1956, 11, 19))
    )
    [tpl, _] = reg.templates(first.person_id)
    assert tpl.purge_on == date(2029, 5, 31) and tpl.enrolled_on == TODAY
    [person] = reg.templates_for_matching("website", "marketing", date(2026, 6, 1))
    assert person.person == first.person_id and person.encodings.shape == (2, 128)
    assert (person.status, person.authorization) == (MatchStatus.CONSENTED, first.id)
    assert not person.minor

    def status(channel, on, purpose="marketing"):
        [p] = reg.templates_for_matching(channel, purpose, on)
        return p.status, p.authorization

    assert status("instagram", date(2026, 6, 1)) == (MatchStatus.OUT_OF_CHANNEL, None)
    assert status("website", date(2026, 6, 1), "education")[0] is MatchStatus.OUT_OF_PURPOSE
    assert status("instagram", date(2026, 6, 1), "education")[0] is MatchStatus.OUT_OF_SCOPE
    assert status("website", date(2027, 2, 1)) == (MatchStatus.EXPIRED, first.id)
    reg.revoke(first.id, date(2026, 7, 1), "letter")
    assert status("website", date(2026, 6, 30)) == (MatchStatus.CONSENTED, first.id)
    assert status("website", date(2026, 7, 1)) == (MatchStatus.REVOKED, first.id)
    aug = date(2026, 8, 1)
    later = request(tmp_path, person_id=first.person_id, signed_on=aug, received_on=aug)
    second = reg.add(later)
    assert second.person_id == first.person_id
    assert status("website", date(2026, 8, 2)) == (MatchStatus.CONSENTED, second.id)
    assert reg.all_names() == ["Eileen Collins"]
    child = reg.add(request(tmp_path, name="No Dob", photos=(EILEEN,)), force=True)
    by_person = {p.person: p for p in reg.templates_for_matching("website", "marketing", TODAY)}
    assert by_person[child.person_id].minor  # a patient of unknown age gets the strict threshold


def test_purging_biometrics_keeps_documents_and_authorizations(tmp_path, reg):
    auth = reg.add(request(tmp_path, photos=(EILEEN,)))
    assert reg.purge_biometrics(due=True) == 0
    assert reg.purge_biometrics(due=True, today=date(2029, 5, 31)) == 1
    assert reg.templates() == [] and reg.templates_for_matching("website", "marketing", TODAY) == []
    assert reg.get(auth.id) == auth and reg.verify_documents() == []
    with pytest.raises(InvalidRequest):
        reg.purge_biometrics()


def test_templates_are_due_once_no_authorization_is_in_effect(tmp_path, reg):
    revoked = reg.add(request(tmp_path, photos=(EILEEN,)))
    kept = reg.add(request(tmp_path, photos=(EILEEN,), expires_on=date(2026, 9, 1)), force=True)
    reg.revoke(revoked.id, date(2026, 5, 1), "letter")
    assert reg.purge_biometrics(due=True) == 1
    assert [t.person_id for t in reg.templates()] == [kept.person_id]
    assert reg.purge_biometrics(due=True, today=date(2026, 9, 1)) == 1  # expired


def test_decide_coverage_prefers_a_valid_authorization(tmp_path, reg):
    old = reg.add(request(tmp_path, expires_on=date(2026, 3, 1)))
    new = reg.add(request(tmp_path, signed_on=date(2026, 2, 1), received_on=date(2026, 2, 1)))
    auths = reg.list()
    assert decide_coverage(auths, "website", "marketing", date(2026, 4, 1)) == (
        MatchStatus.CONSENTED, new.id)  # fmt: skip
    assert decide_coverage(auths, "website", "marketing", date(2026, 1, 1)) == (
        MatchStatus.NOT_YET_EFFECTIVE,
        new.id,
    )  # not yet received, not "out of scope"
    assert decide_coverage(auths[:1], "website", "marketing", date(2026, 4, 1)) == (
        MatchStatus.EXPIRED, old.id)  # fmt: skip


def test_default_location_follows_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with ConsentRegistry(None, catalog=CATALOG) as registry:
        registry.add(request(tmp_path))
    assert (tmp_path / "xdg" / "photoguard" / "registry.db").is_file()
    assert (tmp_path / "xdg" / "photoguard" / "documents").is_dir()


def test_upgrade_from_schema_version_1_keeps_the_data(tmp_path):
    from photoguard.consent import db

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db.create(url)
    with engine.begin() as conn:
        assert migrations.migrate(conn, target=1) == 1
        conn.exec_driver_sql(
            "INSERT INTO person (name, role, created_at) VALUES ('Old Timer', 'staff', "
            "'2020-01-01 00:00:00')"
        )
    engine.dispose()
    with ConsentRegistry(url, catalog=CATALOG) as registry:
        assert registry.schema_version == migrations.LATEST
        assert registry.all_names() == ["Old Timer"]
    tables = sqlite3.connect(tmp_path / "old.db").execute(
        "SELECT version FROM schema_version ORDER BY version").fetchall()  # fmt: skip
    assert tables == [(v,) for v in range(1, migrations.LATEST + 1)]


def _add_many(args) -> list[str]:
    db_path, folder, worker = args
    with ConsentRegistry(f"sqlite:///{db_path}", catalog=CATALOG) as registry:
        from pathlib import Path

        return [
            registry.add(request(Path(folder), name=f"Worker {worker} #{i}")).id for i in range(10)
        ]


def test_several_processes_add_at_once_without_database_locked(tmp_path):
    db_path = tmp_path / "shared.db"
    ConsentRegistry(f"sqlite:///{db_path}", catalog=CATALOG).close()
    ctx = multiprocessing.get_context("fork")
    jobs = [(db_path, tmp_path / f"docs{w}", w) for w in range(4)]
    with ctx.Pool(4) as pool:
        ids = [i for chunk in pool.map(_add_many, jobs) for i in chunk]
    assert len(set(ids)) == 40
    with ConsentRegistry(f"sqlite:///{db_path}", catalog=CATALOG) as registry:
        assert len(registry.list()) == 40 and registry.document_count() == 40


def test_status_properties_hold_for_any_dates():
    from datetime import timedelta

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from photoguard.consent.records import Authorization

    days = st.integers(min_value=0, max_value=2000)

    @settings(max_examples=200, deadline=None)
    @given(days, days, days, st.one_of(st.none(), days), st.one_of(st.none(), days), days)
    def check(signed, received_after, expires_after, revoked_after, event_after, probe):
        base = date(2020, 1, 1)
        signed_on = base + timedelta(signed)
        auth = Authorization(
            id="AUTH-000001", person_id="PER-000001", person_name="x", form_version="F-1",
            disclosed="d", discloser="d", recipients="r", purposes=("marketing",),
            channels=("website",), signed_on=signed_on,
            received_on=signed_on + timedelta(received_after),
            expires_on=signed_on + timedelta(expires_after + 1), signer="x",
            signer_authority=None, statements=(), third_party_remuneration=False,
            document_sha256="0" * 64,
            revocation_received_on=None if revoked_after is None
            else signed_on + timedelta(revoked_after),
            event_occurred_on=None if event_after is None else signed_on + timedelta(event_after),
        )  # fmt: skip
        on = base + timedelta(probe)
        status = auth.status_on(on)
        if on < auth.received_on:
            assert status is AuthStatus.NOT_YET_EFFECTIVE
        if status in (AuthStatus.REVOKED, AuthStatus.EXPIRED):
            # Terminal states: never active again on any later day.
            assert all(
                auth.status_on(on + timedelta(k)) is not AuthStatus.ACTIVE for k in (1, 30, 900)
            )
        assert auth.valid_for("website", "marketing", on) == (status is AuthStatus.ACTIVE)
        assert not auth.valid_for("instagram", "marketing", on)

    check()


def _import_file(folder, document: str, photos: str = "") -> os.PathLike:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "consents.toml"
    path.write_text(
        '[[authorization]]\nname = "Test Person"\nchannels = ["website"]\n'
        'purposes = ["marketing"]\nsigned_on = 2026-01-10\nexpires_on = 2027-01-10\n'
        f"document = {document!r}\n" + (f"photos = [{photos!r}]\n" if photos else "")
    )
    return path


@pytest.mark.parametrize(
    "document, photo, problem",
    [
        ("../../../../../../../../etc/passwd", "", "must stay inside the import file's folder"),
        ("/etc/shadow", "", "must be a path relative to the import file"),
        ("escape.pdf", "", "must stay inside the import file's folder"),  # a symlink out
        ("form.pdf", "../outside.png", "must stay inside the import file's folder"),
        ("form.pdf", "sub", "is not a regular file"),
        ("nowhere.pdf", "", "not found"),
    ],
)
def test_import_paths_stay_inside_the_import_folder(tmp_path, reg, document, photo, problem):
    folder = tmp_path / "batch"
    path = _import_file(folder, document, photo)
    (folder / "form.pdf").write_bytes(b"the signed form")
    (folder / "sub").mkdir()
    (tmp_path / "outside.png").write_bytes(EILEEN.read_bytes())
    (tmp_path / "secret.pdf").write_bytes(b"another patient's form")
    (folder / "escape.pdf").symlink_to(tmp_path / "secret.pdf")
    with pytest.raises(InvalidRequest) as info:
        reg.import_file(path)
    assert problem in str(info.value) and "consents.toml row 1" in str(info.value)
    assert len(str(info.value).splitlines()) == 1
    assert reg.list() == [] and reg.document_count() == 0
    assert not (tmp_path / "db" / "documents").exists()


def test_an_import_file_may_use_subfolders_and_links_that_stay_inside(tmp_path, reg):
    folder = tmp_path / "batch"
    (folder / "signed").mkdir(parents=True)
    (folder / "signed" / "form.pdf").write_bytes(b"the signed form")
    (folder / "link.pdf").symlink_to(folder / "signed" / "form.pdf")
    [auth] = reg.import_file(_import_file(folder, "link.pdf"))
    assert reg.store.path_for(auth.document_sha256).read_bytes() == b"the signed form"


def test_the_same_face_under_a_second_person_is_refused_unless_forced(tmp_path, reg):
    from photoguard.consent import audit
    from photoguard.consent.errors import DuplicateFace

    first = reg.add(request(tmp_path, photos=(EILEEN,)))
    with pytest.raises(DuplicateFace) as info:
        reg.add(request(tmp_path, name="Someone Else", photos=(EILEEN,)))
    assert f"--person {first.person_id}" in str(info.value)
    assert len(reg.list()) == 1 and len(reg.templates()) == 1
    # Photos added to the existing person: one identity, both templates.
    more = reg.add(request(tmp_path, person_id=first.person_id, photos=(EILEEN,)))
    assert more.person_id == first.person_id and reg.warnings == []
    [person] = reg.templates_for_matching("website", "marketing", TODAY)
    assert person.person == first.person_id and person.encodings.shape == (2, 128)
    # Forced (look-alikes): registered, with a warning and a trace in the audit trail.
    twin = reg.add(request(tmp_path, name="Twin", photos=(EILEEN,)), force=True)
    assert twin.person_id != first.person_id and first.person_id in reg.warnings[0]
    assert audit.export(reg)[-1]["payload"]["same_face_as"] == first.person_id


def test_an_import_with_the_same_face_in_two_rows_registers_nothing(tmp_path, reg):
    from photoguard.consent.errors import DuplicateFace

    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.png").write_bytes(EILEEN.read_bytes())
    rows = []
    for n in (1, 2):
        (folder / f"form{n}.pdf").write_bytes(f"form {n}".encode())
        rows.append(f'[[authorization]]\nname = "Person {n}"\nchannels = ["website"]\n'
                    'purposes = ["marketing"]\nsigned_on = 2026-01-10\nexpires_on = 2027-01-10\n'
                    f'document = "form{n}.pdf"\nphotos = ["a.png"]\n')  # fmt: skip
    (folder / "two.toml").write_text("".join(rows))
    with pytest.raises(DuplicateFace, match="two.toml row 2"):
        reg.import_file(folder / "two.toml")
    assert reg.list() == [] and reg.templates() == []
