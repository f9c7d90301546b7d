"""Flask CLI commands (docs/api.md): init-db, seed-demo, create-user, create-token, scheduler, plan."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from opsroom.db import get_engine, get_session
from opsroom.domain.statuses import ROLES
from opsroom.services.reporting.refresh import refresh


def init_app(app) -> None:
    # Plain click commands: `flask` (FlaskGroup) pushes an app context for them,
    # app.cli and app.test_cli_runner() do not, hence @with_appcontext on each.
    for command in (init_db, seed_demo, create_user, create_token, scheduler, create_screen_token, demo_live,
                    backup, restore, reports_refresh, plan):
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or migrate the schema to the latest revision (safe to run twice)."""
    from opsroom.migrate import current_revision, upgrade

    from opsroom.catalogs import compile_catalogs

    engine = get_engine()
    upgrade(engine)
    click.echo(f"database at revision {current_revision(engine)}")
    for mo in compile_catalogs(current_app.config["BABEL_TRANSLATION_DIRECTORIES"]):
        click.echo(f"compiled {mo.parent.parent.name} translations")


@click.command("seed-demo")
@with_appcontext
@click.option("--force", is_flag=True, help="Load even if the database is not empty (wipes it first).")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database holds data.")
def seed_demo(force: bool, if_empty: bool):
    """Load the demo park (rooms, tenants, users, bookings from the 1st of last month to two weeks ahead, orders)."""
    from opsroom.demo.park import load_demo

    session = get_session()
    if _holds_data(session) and not force:
        if if_empty:
            click.echo("database holds data; demo park not loaded")
            return
        raise click.ClickException("the database is not empty; use --force to wipe it and load the demo park")
    summary = load_demo(session, wipe=force)
    click.echo(summary)


def _holds_data(session) -> bool:
    """Whether any table has a row (a first admin alone makes the database non-empty)."""
    from opsroom.db import Base

    return any(session.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
               for table in Base.metadata.sorted_tables)


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", required=True)
@click.option("--name", default="")
@click.option("--tenant-id", type=int, default=None, help="The tenant a tenant's account (role tenant) belongs to.")
def create_user(email: str, role: str, password: str, name: str, tenant_id: int | None):
    """Create a user (a tenant's account names its tenant with --tenant-id)."""
    from opsroom.services.park import users
    from opsroom.services.errors import ValidationFailed

    session = get_session()
    try:
        user = users.create_user(session, email=email, role=role, password=password, name=name,
                                 tenant_id=tenant_id)
    except ValidationFailed as exc:
        raise click.ClickException("; ".join(f"{d['field']}: {d['message']}" for d in exc.details)) from None
    click.echo(f"created {user.role} {user.email}")


@click.command("create-token")
@with_appcontext
@click.argument("email")
@click.option("--label", default="cli")
def create_token(email: str, label: str):
    """Print a new API token for EMAIL (the last line of output)."""
    from opsroom.services.park import users

    session = get_session()
    user = users.get_user_by_email(session, email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    token = users.create_token(session, user, label)
    click.echo(token)


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the background scheduler in the foreground until stopped."""
    from opsroom import jobs

    click.echo("scheduler running; Ctrl+C to stop")
    try:
        jobs.run_forever(current_app._get_current_object())
    except (KeyboardInterrupt, SystemExit):
        pass


# --- Big screen and demo orders ------------------------------------


@click.command("create-screen-token")
@with_appcontext
@click.option("--label", default="", help="Where the screen hangs, e.g. '一楼大厅'.")
def create_screen_token(label: str):
    """Print a new read-only big-screen token (the last line of output)."""
    from opsroom.services.sales import screen
    from opsroom.services.errors import ValidationFailed

    session = get_session()
    try:
        token = screen.create_token(session, None, label)
    except ValidationFailed as exc:
        raise click.ClickException("; ".join(f"{d['field']}: {d['message']}" for d in exc.details)) from None
    click.echo(f"screen token{' for ' + label if label else ''}; open /screen?token=<token> on the hall PC:")
    click.echo(token)


@click.command("demo-live")
@with_appcontext
@click.option("--interval", type=click.FloatRange(min=0), default=3.0, show_default=True,
              help="Seconds between two rounds of orders.")
@click.option("--count", type=click.IntRange(min=0), default=0, show_default=True,
              help="Stop after this many rounds (0: run until stopped).")
def demo_live(interval: float, count: int):
    """Keep feeding demo orders into the sessions live now, through the same
    ingestion as the API, so that the big screen moves."""
    import time as _time

    from opsroom.demo.orders import feed_live_orders

    session = get_session()
    rounds = 0
    try:
        while count == 0 or rounds < count:
            summary = feed_live_orders(session, interval=interval)
            session.close()
            rounds += 1
            click.echo(f"round {rounds}: {summary}")
            if count == 0 or rounds < count:
                _time.sleep(interval)
    except KeyboardInterrupt:
        pass


# --- Backups -------------------------------------------------------


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path: str):
    """Copy the database to PATH, consistent while the app writes (SQLite; PostgreSQL: pg_dump)."""
    from opsroom.services.operations import backup as backups

    try:
        done = backups.backup(get_engine(), path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {done['path']} ({done['bytes']} bytes, revision {done['revision']})")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore(path: str, yes: bool):
    """Replace the database with the backup at PATH (SQLite; PostgreSQL: pg_restore)."""
    from opsroom.services.operations import backup as backups

    try:
        backups.sqlite_file(get_engine())
        backups.check_backup(path)
        if not yes:
            click.confirm("Replace the whole database with this backup?", abort=True)
        revision = backups.restore(get_engine(), path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"database restored from {path} (revision {revision})")


@click.command("reports-refresh")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="first park-local day")
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]), help="last park-local day")
@with_appcontext
def reports_refresh(first, last):
    """Compute the report rollups for a range of days now (the scheduler does it a week at a time)."""
    from opsroom.db import intent

    with intent(write=True):
        session = get_session()
        written = refresh(session, first.date(), last.date(), pause=True)
    click.echo(f"{written} room-days computed")


@click.command("plan")
@click.option("--month", "month", required=True, type=click.DateTime(["%Y-%m"]), help="the month, YYYY-MM")
@click.option("--time-limit", "time_limit", type=click.IntRange(1, 600), default=60, show_default=True,
              help="seconds for the solver")
@with_appcontext
def plan(month, time_limit: int):
    """Run the month planner over the month's pending requests now and print a
    summary (placed, unplaced, gap); the draft is kept for review (the plan page)."""
    import os

    from opsroom.db import intent
    from opsroom.models import Plan
    from opsroom.services.errors import ServiceError
    from opsroom.services.planning import runs

    with intent(write=True):
        session = get_session()
        try:
            row = runs.start(session, None, month.date(), time_limit_seconds=time_limit)
        except ServiceError as exc:
            raise click.ClickException("; ".join([str(exc.message)] + [str(d.get("message", ""))
                                                                       for d in exc.details])) from None
        status = runs.execute(current_app.extensions["opsroom.sessionmaker"], row.id, f"cli:{os.getpid()}")
        session.expire_all()
        row = session.get(Plan, row.id)
    result = row.result or {}
    progress = row.progress or {}
    gap = progress.get("gap")
    click.echo(f"plan {row.id} for {month:%Y-%m}: {status}")
    click.echo(f"placed {len(result.get('placed', []))} sessions, unplaced {len(result.get('unplaced', []))}, "
               f"gap {'-' if gap is None else f'{gap:.2%}'}")
    if row.error:
        raise click.ClickException(row.error)
