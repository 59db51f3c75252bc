"""The benchmark's anchor (issue 17): the cheapest *realistic* page of this stack, served with the
same gunicorn settings as Rapport and measured next to every key page.

Flask + Flask-Login (the user is loaded from the database on every request) + SQLAlchemy 2 ORM:
`session.get` of one parent row by primary key, then its 20 items joined to their parent, out of
100,000 items, both picked at random per request; rendered through a template that extends a full
layout (about 13 KB of HTML, `url_for` twice a row). Three SQL statements a page. Its own tables
(`anchor_*`) live in the bench database beside Rapport's. Served as `bench.anchor:app`;
`/anchor/sign-in` gives the cookie wrk sends.
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta

from flask import Flask, render_template
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from sqlalchemy import ForeignKey, String, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from portal.db import build_engine

PARENTS = 5_000
ITEMS_PER_PARENT = 20  # 100,000 items
USERS = 50


class AnchorBase(DeclarativeBase):
    pass


class AnchorUser(AnchorBase, UserMixin):
    __tablename__ = "anchor_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)


class AnchorParent(AnchorBase):
    __tablename__ = "anchor_parents"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(String(400))
    owner_id: Mapped[int] = mapped_column(ForeignKey("anchor_users.id"))


class AnchorItem(AnchorBase):
    __tablename__ = "anchor_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("anchor_parents.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()


def build_anchor_data(engine: Engine) -> None:
    """Create and fill the anchor's tables once (kept between runs)."""
    AnchorBase.metadata.create_all(engine)
    with engine.begin() as connection:
        if connection.scalar(select(AnchorItem.id).limit(1)) is not None:
            return
        rng = random.Random(17)  # noqa: S311 - bench data, not secrets
        connection.execute(
            insert(AnchorUser), [{"id": n, "name": f"Person {n}"} for n in range(1, USERS + 1)]
        )
        connection.execute(
            insert(AnchorParent),
            [
                {
                    "id": n,
                    "name": f"Folder {n}",
                    "summary": "A folder of twenty items, each with a status and an amount.",
                    "owner_id": rng.randint(1, USERS),
                }
                for n in range(1, PARENTS + 1)
            ],
        )
        start = datetime(2026, 1, 1)
        statuses = ("open", "waiting", "done", "archived")
        for first in range(1, PARENTS + 1, 500):
            connection.execute(
                insert(AnchorItem),
                [
                    {
                        "parent_id": parent,
                        "title": f"Item {parent}-{n}",
                        "status": statuses[n % 4],
                        "amount": rng.randint(1, 1000),
                        "updated_at": start + timedelta(minutes=rng.randint(0, 500_000)),
                    }
                    for parent in range(first, min(first + 500, PARENTS + 1))
                    for n in range(ITEMS_PER_PARENT)
                ],
            )
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def create_anchor_app(url: str) -> Flask:
    app = Flask(__name__, template_folder="templates")
    app.config["SECRET_KEY"] = os.environ.get("PORTAL_SECRET_KEY", "anchor-secret-" + "x" * 32)
    sessions = sessionmaker(bind=build_engine(url), expire_on_commit=False)
    login = LoginManager(app)

    def db() -> Session:
        from flask import g

        if "anchor_session" not in g:
            g.anchor_session = sessions()
        session: Session = g.anchor_session
        return session

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        from flask import g

        session = g.pop("anchor_session", None)
        if session is not None:
            session.close()

    @login.user_loader
    def _load(user_id: str) -> AnchorUser | None:
        return db().get(AnchorUser, int(user_id))

    @app.get("/anchor/sign-in")
    def sign_in() -> str:
        user = db().get(AnchorUser, 1)
        assert user is not None
        login_user(user)
        return "signed in"

    @app.get("/anchor")
    @login_required
    def anchor() -> str:
        parent = db().get(AnchorParent, random.randint(1, PARENTS))  # noqa: S311
        assert parent is not None
        rows = (
            db()
            .execute(
                select(AnchorItem, AnchorUser.name)
                .join(AnchorParent, AnchorItem.parent_id == AnchorParent.id)
                .join(AnchorUser, AnchorParent.owner_id == AnchorUser.id)
                .where(AnchorItem.parent_id == parent.id)
                .order_by(AnchorItem.id)
                .limit(ITEMS_PER_PARENT)
            )
            .all()
        )
        return render_template("anchor.html", parent=parent, rows=rows, user=current_user)

    @app.get("/anchor/items/<int:item_id>")
    def item(item_id: int) -> str:
        return f"item {item_id}"

    return app


if os.environ.get("DATABASE_URL"):
    app = create_anchor_app(os.environ["DATABASE_URL"])
