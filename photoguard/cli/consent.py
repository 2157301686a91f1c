"""``photoguard consent``: the registry of signed authorizations, documents and face templates.

Thin adapters: parse -> one registry call -> table or JSON -> exit code. The database and face
libraries load inside the commands, never at import (``photoguard --help`` stays light).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from photoguard.cli import consent_views as views
from photoguard.cli import output

if TYPE_CHECKING:
    from photoguard.consent.registry import ConsentRegistry

app = typer.Typer(
    help=(
        "Signed HIPAA authorizations, their documents and reference faces.\n\n"
        "Example: photoguard consent list --channel instagram --valid-on 2026-06-01\n\n"
        "The registry is --db / PHOTOGUARD_DB / \\[registry] url, by default "
        "$XDG_DATA_HOME/photoguard/registry.db (~/.local/share/photoguard/registry.db) with "
        "signed documents in documents/ beside it. Form versions come from \\[registry.forms] "
        "in photoguard.toml."
    ),
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force", help="Register a face already enrolled as another person (look-alikes)."
    ),
]


def _open(ctx: typer.Context, create: bool = False) -> ConsentRegistry:
    """The registry; only the commands that register something create a missing one."""
    from photoguard.consent.registry import ConsentRegistry

    settings = output.settings_or_exit(ctx)
    with output.errors_to_exit():
        return ConsentRegistry.from_settings(settings, create=create)


def _date(text: str | None, option: str) -> date | None:
    return output.parse_date(text, option) if text else None


# Over 50 lines: one Typer option per element of the HIPAA authorization, declared in the
# signature (Typer reads them there); the body is one request and one registry call.
@app.command("add", no_args_is_help=True)
def add(
    ctx: typer.Context,
    photo: Annotated[
        list[Path], typer.Option(help="Reference photo with exactly one face (repeat).")
    ],
    # Optional here so that the completeness check names every missing element at once.
    name: Annotated[str, typer.Option(help="The individual, as on the form.")] = "",
    document: Annotated[Path | None, typer.Option(help="Scan or photo of the signed form.")] = None,
    channel: Annotated[list[str] | None, typer.Option(help="Channel covered (repeat).")] = None,
    purpose: Annotated[list[str] | None, typer.Option(help="Purpose covered (repeat).")] = None,
    signed_on: Annotated[
        str | None, typer.Option("--signed-on", help="Date signed, YYYY-MM-DD.")
    ] = None,
    expires: Annotated[str | None, typer.Option(help="Expiration date, YYYY-MM-DD.")] = None,
    expires_event: Annotated[
        str | None, typer.Option("--expires-event", help="Expiration event, as on the form.")
    ] = None,
    dob: Annotated[str | None, typer.Option(help="Date of birth, YYYY-MM-DD.")] = None,
    role: Annotated[str, typer.Option(help="patient, staff or visitor.")] = "patient",
    signer: Annotated[
        str | None, typer.Option(help="Personal representative who signed (default: the person).")
    ] = None,
    signer_authority: Annotated[
        str | None, typer.Option("--signer-authority", help="Their authority (parent, guardian).")
    ] = None,
    received_on: Annotated[
        str | None, typer.Option("--received-on", help="Date received (default: today).")
    ] = None,
    form: Annotated[
        str | None, typer.Option(help="Form version signed (default: \\[registry] default_form).")
    ] = None,
    third_party_remuneration: Annotated[
        bool, typer.Option("--third-party-remuneration", help="A third party pays.")
    ] = False,
    person: Annotated[
        str | None, typer.Option(help="Add to this existing person id (PER-000001).")
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Register one signed authorization and enrol the person's reference photos.

    Refused, with every missing element listed, when the authorization is incomplete; refused
    when a photo shows a face already enrolled as another person (use --person to add to that
    person, or --force for two people who look alike).

    Example: photoguard consent add --name "Ana Diaz" --photo ana.jpg --document ana-form.pdf
    --channel website --channel instagram --purpose marketing --signed-on 2026-03-01
    --expires 2028-03-01
    """
    from photoguard.consent.records import AuthorizationRequest, Role

    try:
        role_value = Role(role.lower())
    except ValueError:
        raise output.fail("--role must be patient, staff or visitor", 2) from None
    request = AuthorizationRequest(
        name=name, channels=tuple(channel or ()), purposes=tuple(purpose or ()),
        signed_on=_date(signed_on, "--signed-on"), document=document, photos=tuple(photo),
        expires_on=_date(expires, "--expires"), expires_event=expires_event,
        dob=_date(dob, "--dob"), role=role_value, signer=signer, signer_authority=signer_authority,
        received_on=_date(received_on, "--received-on"), form_version=form,
        third_party_remuneration=third_party_remuneration, person_id=person,
    )  # fmt: skip
    registry = _open(ctx, create=True)
    with output.errors_to_exit():
        auth = registry.add(request, force=force)
    views.print_added([auth], registry, as_json)


@app.command("import", no_args_is_help=True)
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .toml or .csv file of authorizations.")],
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Register every authorization in a file, or none if any row is incomplete or invalid.

    TOML: [[authorization]] tables. CSV: a header row; lists separated by ';'. Columns: name,
    dob, role, person, channels, purposes, signed_on, received_on, expires_on, expires_event,
    signer, signer_authority, form, third_party_remuneration, document, photos (paths relative
    to the file).

    Example: photoguard consent import consents/demo.toml
    """
    registry = _open(ctx, create=True)
    with output.errors_to_exit():
        auths = registry.import_file(file, force=force)
    views.print_added(auths, registry, as_json)


@app.command("list")
def list_(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help="Only those covering this channel.")] = None,
    purpose: Annotated[str | None, typer.Option(help="Only those covering this purpose.")] = None,
    valid_on: Annotated[
        str | None, typer.Option("--valid-on", help="Only those in effect on this date.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List authorizations (revoked and expired ones too, unless --valid-on is given).

    Example: photoguard consent list --channel instagram --valid-on 2026-06-01 --json
    """
    on = _date(valid_on, "--valid-on")
    registry = _open(ctx)
    with output.errors_to_exit():
        auths = registry.list(channel=channel, valid_on=on, purpose=purpose)
    on = on or registry.clock()
    views.print_auths(auths, on, f"authorizations (status on {on.isoformat()})", as_json)


@app.command("show", no_args_is_help=True)
def show(
    ctx: typer.Context,
    auth_id: Annotated[str, typer.Argument(metavar="ID", help="Authorization id (AUTH-000001).")],
    on: Annotated[str | None, typer.Option(help="Status on this date (default: today).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show every element of one authorization and its status.

    Example: photoguard consent show AUTH-000001 --json
    """
    day = _date(on, "--on")
    registry = _open(ctx)
    with output.errors_to_exit():
        auth = registry.get(auth_id)
        templates = registry.templates(auth.person_id)
    views.print_authorization(auth, templates, day or registry.clock(), as_json)


@app.command("revoke", no_args_is_help=True)
def revoke(
    ctx: typer.Context,
    auth_id: Annotated[str, typer.Argument(metavar="ID", help="Authorization id.")],
    received: Annotated[
        str, typer.Option(help="Date the written revocation was received (it is effective then).")
    ],
    reason: Annotated[str, typer.Option(help="Why (e.g. 'patient request, letter of ...').")],
) -> None:
    """Record a written revocation; the authorization stays on file, marked revoked.

    Then lists the published copies that relied on it (see `consent takedown`): what was
    published before the revocation stays lawful, but should come down.

    Example: photoguard consent revoke AUTH-000001 --received 2026-05-02 --reason "letter"
    """
    from photoguard.consent import audit

    day = output.parse_date(received, "--received")
    registry = _open(ctx)
    with output.errors_to_exit():
        auth = registry.revoke(auth_id, day, reason)
        published = audit.takedown(registry, auth.id)
    output.console.print(f"{auth.id} revoked as of {day.isoformat()}")
    views.print_takedown(auth.id, published, as_json=False)


@app.command("takedown", no_args_is_help=True)
def takedown(
    ctx: typer.Context,
    auth_id: Annotated[str, typer.Argument(metavar="ID", help="Authorization id.")],
    as_json: JsonOpt = False,
) -> None:
    """List every published copy (written by `photoguard redact`) that kept a face under this
    authorization, from the audit trail.

    Example: photoguard consent takedown AUTH-000001 --json
    """
    from photoguard.consent import audit

    registry = _open(ctx)
    with output.errors_to_exit():
        published = audit.takedown(registry, auth_id)
    views.print_takedown(auth_id, published, as_json)


@app.command("expire-event", no_args_is_help=True)
def expire_event(
    ctx: typer.Context,
    auth_id: Annotated[str, typer.Argument(metavar="ID", help="Authorization id.")],
    on: Annotated[str, typer.Option(help="Date the expiration event happened.")],
) -> None:
    """Record that an authorization's expiration event happened (it is expired from then).

    Example: photoguard consent expire-event AUTH-000004 --on 2027-09-30
    """
    day = output.parse_date(on, "--on")
    registry = _open(ctx)
    with output.errors_to_exit():
        auth = registry.record_expiry_event(auth_id, day)
    output.console.print(f"{auth.id} expired as of {day.isoformat()}")


@app.command("expiring")
def expiring(
    ctx: typer.Context,
    within: Annotated[int, typer.Option(min=0, help="Days ahead.")] = 30,
    today: Annotated[str | None, typer.Option(help="Count from this date.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List authorizations in effect now that expire within the next DAYS.

    Example: photoguard consent expiring --within 60
    """
    start = _date(today, "--today")
    registry = _open(ctx)
    with output.errors_to_exit():
        auths = registry.expiring(within, start)
    views.print_auths(auths, start or registry.clock(), f"expiring within {within} days", as_json)


@app.command("verify")
def verify(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Re-hash every stored signed document and check every person, authorization and face
    template row against the state the audit trail vouches for; exit 1 if anything is missing,
    changed or edited outside photoguard.

    Example: photoguard consent verify
    """
    from photoguard.consent import audit

    registry = _open(ctx)
    with output.errors_to_exit():
        problems = registry.verify_documents()
        total = registry.document_count()
        rows = audit.verify_state(registry)
    if as_json:
        views.print_json({
            "documents": total, "problems": [asdict(p) for p in problems],
            "rows": [asdict(r) for r in rows],
        })  # fmt: skip
    else:
        for p in problems:
            output.err(f"{p.problem}: document {p.sha256} ({', '.join(p.authorizations)})")
        for r in rows:
            output.err(f"registry row {r}")
        output.console.print(
            f"{total} documents checked, {len(problems)} problems; "
            f"{len(rows)} registry rows differ from the audit trail",
            highlight=False,
        )
    raise typer.Exit(1 if problems or rows else 0)


@app.command("purge-biometrics")
def purge_biometrics(
    ctx: typer.Context,
    person: Annotated[str | None, typer.Option(help="Purge this person's templates.")] = None,
    due: Annotated[
        bool,
        typer.Option(
            "--due", help="Purge templates past their purge date or whose consent has ended."
        ),
    ] = False,
    today: Annotated[str | None, typer.Option(help="Judge --due as of this date.")] = None,
) -> None:
    """Delete face templates (biometric data); signed documents and records stay.

    Example: photoguard consent purge-biometrics --due
    """
    if person is None and not due:
        raise output.fail("give --person ID or --due", 2)
    day = _date(today, "--today")
    registry = _open(ctx)
    with output.errors_to_exit():
        count = registry.purge_biometrics(person_id=person, due=due, today=day)
    output.console.print(f"{count} face templates purged")
