"""The therapist's service policy: office hours, the reply window and "expect a reply by ..."."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask_babel import get_locale

from portal.i18n import clock, day_name
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.models import User
from portal.models.case_rows import Named

# Form choices; pages name days through Babel (portal/i18n.day_name).
DAY_NAMES = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
DEFAULT_TIMEZONE = "America/New_York"


@dataclass(frozen=True)
class Hours:
    """A therapist's policy, or the clinic default when they never saved one."""

    therapist: User | Named  # a mapped user, or the plain row of a case's team
    office_days: int = 0b0011111
    opens_at: time = time(9, 0)
    closes_at: time = time(17, 0)
    reply_window_days: int = 2

    @property
    def zone(self) -> ZoneInfo:
        clinic = self.therapist.clinic
        return ZoneInfo(clinic.timezone if clinic else DEFAULT_TIMEZONE)

    def is_office_day(self, day: date) -> bool:
        return bool(self.office_days & (1 << day.weekday()))

    def in_hours(self, when: datetime) -> bool:
        local = when.astimezone(self.zone)
        return self.is_office_day(local.date()) and self.opens_at <= local.time() < self.closes_at

    def reply_due(self, sent: datetime) -> datetime:
        """The end of the reply window: `reply_window_days` office days after the day the message
        arrived (a message after closing time counts from the next office day)."""
        local = sent.astimezone(self.zone)
        day = local.date()
        if not self.is_office_day(day) or local.time() >= self.closes_at:
            day = self._next_office_day(day)
        for _step in range(self.reply_window_days):
            day = self._next_office_day(day)
        return datetime.combine(day, self.closes_at, tzinfo=self.zone)

    def _next_office_day(self, day: date) -> date:
        for _step in range(7):
            day += timedelta(days=1)
            if self.is_office_day(day):
                return day
        return day  # unreachable: a policy has at least one office day (CHECK constraint)

    def describe(self) -> str:
        """e.g. "Monday–Friday, 9:00 AM–5:00 PM"."""
        days = [i for i in range(7) if self.office_days & (1 << i)]
        runs: list[list[int]] = []
        for i in days:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        names = ", ".join(
            day_name(r[0]) if len(r) == 1 else f"{day_name(r[0])}–{day_name(r[-1])}" for r in runs
        )
        return f"{names}, {clock(self.opens_at)}–{clock(self.closes_at)}"


def reply_by_text(due: datetime, now: datetime, zone: ZoneInfo | None = None) -> str:
    """The weekday ("Thursday") within the coming week, otherwise a date; clinic time zone."""
    zone = zone or ZoneInfo(DEFAULT_TIMEZONE)
    local_due = due.astimezone(zone)
    days = (local_due.date() - now.astimezone(zone).date()).days
    if days < 0:
        return _("%(day)s (overdue)", day=_weekday_date(local_due))
    if days == 0:
        return _("today")
    if days < 7:
        return day_name(local_due.weekday())
    return _weekday_date(local_due)


def _weekday_date(value: datetime) -> str:
    """ "Thursday, Dec 3" / "jueves, 3 dic" """
    return f"{day_name(value.weekday())}, {format_skeleton('MMMd', value, locale=get_locale())}"
