"""Operations commands: `backup`, `restore` (RL-09) and `retention-purge` (CO-04)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from portal import db
from portal.extensions import database


def init_app(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(destination: Path) -> None:
        """Write an encrypted backup of the database to DESTINATION (key: PORTAL_BACKUP_KEY)."""
        from portal.ops.backup import BackupError, backup, backup_key

        try:
            backup(database.engine, destination, backup_key())
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"backup written: {destination} ({destination.stat().st_size} bytes, encrypted)")

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Replace a database that already has tables.")
    def restore_command(source: Path, force: bool) -> None:
        """Decrypt and load a backup into the configured (fresh) database, then count rows."""
        from portal.ops.backup import BackupError, backup_key, restore, table_digests

        try:
            restore(database.engine, source, backup_key(), force=force)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        digests = table_digests(database.engine)
        rows = sum(count for count, _ in digests.values())
        click.echo(f"restored {len(digests)} tables, {rows} rows")

    @app.cli.command("retention-purge")
    @click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
    def retention_purge(dry_run: bool) -> None:
        """Remove what is past the clinic's retention policy (PORTAL_RETENTION_*; README)."""
        from portal.ops.retention import purge

        report = purge(app.config)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()  # commit point: the command's work
        verb = "would remove" if dry_run else "removed"
        for line in report.lines():
            click.echo(f"{verb} {line}")
