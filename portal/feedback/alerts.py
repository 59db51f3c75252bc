"""Alerts gathered by their cause: the alerts one feedback answer raised (a low rating and a drop)
are one item with its reasons, resolved together when that feedback is answered. Alerts from a
case-wide rule (no practice, a check-in overdue, flat progress) each stand alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from portal.models.feedback import AlertKind
from portal.stored_words import Words, said

RUPTURE_KINDS = (AlertKind.LOW_RATING, AlertKind.RATING_DROP)


class OpenAlert(Protocol):
    """What grouping and showing an alert reads: a CareAlert, or a row of its columns (the
    before-the-session page reads rows)."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> AlertKind: ...
    @property
    def evidence(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def summary_text(self) -> str: ...


class AlertRow(NamedTuple):
    """An open alert read as plain columns (OpenAlert): the before-the-session page and the
    caseload read these, not CareAlert entities (issue 17)."""

    id: int
    kind: AlertKind
    evidence: str
    created_at: datetime
    summary_words: Words | None
    summary: str

    @property
    def summary_text(self) -> str:
        return said(self.summary_words, self.summary)


def cause_of(alert: OpenAlert) -> str:
    if alert.evidence.startswith("feedback:"):
        return alert.evidence
    return f"alert:{alert.id}"


@dataclass
class AlertGroup:
    """The open alerts that one cause raised."""

    cause: str
    alerts: list[OpenAlert]

    @property
    def kinds(self) -> list[AlertKind]:
        return [alert.kind for alert in self.alerts]

    @property
    def is_rupture(self) -> bool:
        # Over the alerts, not `kinds` (no list made): a caseload asks this of every group
        # several times (issue 17).
        return any(alert.kind in RUPTURE_KINDS for alert in self.alerts)

    @property
    def feedback_id(self) -> int | None:
        kind, _sep, ident = self.cause.partition(":")
        return int(ident) if kind == "feedback" and ident.isdigit() else None

    @property
    def first(self) -> OpenAlert:
        return self.alerts[0]


def group_by_cause(alerts: Sequence[OpenAlert]) -> list[AlertGroup]:
    """Ruptures first, then the longest waiting; alerts keep their order within a group."""
    groups: dict[str, AlertGroup] = {}
    for alert in sorted(alerts, key=lambda a: (a.created_at, a.id)):
        cause = cause_of(alert)
        group = groups.get(cause)
        if group is None:
            group = groups[cause] = AlertGroup(cause, [])
        group.alerts.append(alert)
    return sorted(groups.values(), key=lambda g: (not g.is_rupture, g.first.created_at))
