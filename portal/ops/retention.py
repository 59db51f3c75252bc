"""Retention (CO-04): what is past the clinic's policy is removed by `flask --app wsgi
retention-purge` (run it daily from cron).

The policy is the clinic's to set (README "Retention"); the defaults:
- a child whose deletion was completed: the retained clinical record is removed once
  PORTAL_RETENTION_CLINICAL_YEARS (7) have passed since the deletion AND the child has reached
  PORTAL_RETENTION_MAJORITY_AGE (21). Every row linked to the case goes; the audit trail keeps one
  "retention_purge" row (no personal information, only ids).
- ended sign-in sessions and delivered or cancelled emails: after PORTAL_RETENTION_OPERATIONAL_DAYS
  (90).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, exists, false, or_, select, update

from portal import audit, db
from portal.db import Base, utcnow
from portal.models import (
    AuthSession,
    Case,
    DataRequest,
    DataRequestStatus,
    OutboxEmail,
    RetentionPurge,
)
from portal.models.messages import MessageNotification

DEFAULTS = {
    "RETENTION_CLINICAL_YEARS": 7,
    "RETENTION_MAJORITY_AGE": 21,
    "RETENTION_OPERATIONAL_DAYS": 90,
}


@dataclass
class PurgeReport:
    cases: list[int] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    emails: int = 0

    def lines(self) -> list[str]:
        found = [f"case {case_id} (retention ended)" for case_id in self.cases]
        found += [f"{count} row(s) of {table}" for table, count in sorted(self.rows.items())]
        found.append(f"{self.sessions} ended sign-in session(s)")
        found.append(f"{self.emails} delivered or cancelled email(s)")
        return found


def setting(config: Mapping[str, Any], name: str) -> int:
    return int(config.get(name, DEFAULTS[name]))


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def due_cases(config: Mapping[str, Any], today: date) -> list[Case]:
    years = setting(config, "RETENTION_CLINICAL_YEARS")
    majority = setting(config, "RETENTION_MAJORITY_AGE")
    completed = db.session.scalars(
        select(DataRequest).where(DataRequest.status == DataRequestStatus.COMPLETED)
    ).all()
    due: dict[int, Case] = {}
    for request in completed:
        assert request.completed_at is not None
        kept_until = _years_after(request.completed_at.date(), years)
        adult_on = _years_after(request.case.child.date_of_birth, majority)
        if kept_until <= today and adult_on <= today:
            due[request.case_id] = request.case
    return list(due.values())


def _doomed(case: Case) -> dict[str, ColumnElement[bool]]:
    """Per table, which rows belong to the case: seeded with the case, its child and the child's
    account, then every row whose NOT NULL foreign key points at a doomed row."""
    tables = Base.metadata.tables
    where: dict[str, ColumnElement[bool]] = {
        "cases": tables["cases"].c.id == case.id,
        "children": tables["children"].c.id == case.child_id,
        "users": tables["users"].c.id == case.child.user_id
        if case.child.user_id is not None
        else false(),
    }
    for table in Base.metadata.sorted_tables:
        if table.name in where:
            continue
        links = [
            column.in_(_ids(fk.column.table, where[fk.column.table.name], fk.column.name))
            for column in table.columns
            for fk in column.foreign_keys
            if not column.nullable and fk.column.table.name in where
        ]
        if links:
            where[table.name] = or_(*links)
    return where


def _ids(table: Table, condition: ColumnElement[bool], column: str) -> Any:
    return select(table.c[column]).where(condition)


def purge_case(case: Case, report: PurgeReport) -> None:
    marker = RetentionPurge(case_id=case.id)  # opens the append-only guards for this case only
    db.session.add(marker)
    db.session.flush()
    where = _doomed(case)
    tables = Base.metadata.tables
    # Nullable links from rows that stay (a guardian's session in child mode) are cut.
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                target = fk.column.table.name
                if column.nullable and target in where:
                    stays = ~where[table.name] if table.name in where else None
                    statement = update(table).where(
                        column.in_(_ids(tables[target], where[target], fk.column.name))
                    )
                    if stays is not None:
                        statement = statement.where(stays)
                    db.session.execute(statement.values({column.name: None}))
    child_id = case.child_id
    case_id = case.id
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in where:
            result = db.session.execute(delete(table).where(where[table.name]))
            count = int(getattr(result, "rowcount", 0) or 0)
            if count:
                report.rows[table.name] = report.rows.get(table.name, 0) + count
    db.session.execute(delete(RetentionPurge).where(RetentionPurge.case_id == case_id))
    db.session.expunge_all()
    audit.record(
        db.session,
        action="retention_purge",
        child_id=child_id,
        object_type="case",
        object_id=case_id,
        actor=None,
        detail="retention ended",
    )
    report.cases.append(case_id)


def purge(config: Mapping[str, Any]) -> PurgeReport:
    now = utcnow()
    report = PurgeReport()
    for case in due_cases(config, now.date()):
        purge_case(case, report)
    cutoff = now - timedelta(days=setting(config, "RETENTION_OPERATIONAL_DAYS"))
    sessions = db.session.execute(
        delete(AuthSession).where(AuthSession.ended_at.is_not(None), AuthSession.ended_at < cutoff)
    )
    report.sessions = int(getattr(sessions, "rowcount", 0) or 0)
    finished = or_(OutboxEmail.sent_at < cutoff, OutboxEmail.cancelled_at < cutoff)
    referenced = exists().where(MessageNotification.outbox_email_id == OutboxEmail.id)
    emails = db.session.execute(delete(OutboxEmail).where(finished, ~referenced))
    report.emails = int(getattr(emails, "rowcount", 0) or 0)
    db.session.flush()
    return report
