"""Data rights (CO-02): a guardian's request to delete their child's data, and its completion."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_type, utcnow
from portal.i18n import gettext
from portal.models.accounts import User
from portal.models.cases import Case


class DataRequestStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"


class DataRequest(Base):
    """A guardian asks the clinic to delete what the portal holds about their child. The clinic
    admin completes it: child PI is removed or anonymised, and what the practice must legally keep
    is listed in `retained` (flagged, never silently)."""

    __tablename__ = "data_requests"
    __table_args__ = (Index("ix_data_requests_status", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DataRequestStatus] = mapped_column(
        enum_type(DataRequestStatus, 16), default=DataRequestStatus.PENDING
    )
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What was kept because the practice must retain it, one line per kept record type: each line
    # a msgid (portal/rights/services.py RETAINED_RECORDS), read as `retained_lines`.
    retained: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])

    @property
    def retained_lines(self) -> list[str]:
        """What was kept, in the reader's language (a line written before it was stored as a
        msgid shows as written)."""
        return [gettext(line) for line in self.retained.splitlines() if line]


class RetentionPurge(Base):
    """Present only inside the transaction that purges a case at the end of its retention period
    (CO-04): the append-only guards of consent records and the token ledger allow DELETE of that
    case's rows while its marker exists, and never otherwise. No foreign key: the case goes."""

    __tablename__ = "retention_purges"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(unique=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
