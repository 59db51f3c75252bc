"""The benchmark's baseline: a minimal Flask page that runs one ORM query and renders a small
template, on the same database, engine set-up and gunicorn settings as Rapport. Every key page is
reported as a ratio to it. Served as `bench.baseline:app`."""

from __future__ import annotations

import os

from flask import Flask, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from portal.db import build_engine
from portal.models import Clinic

app = Flask(__name__, template_folder="templates")
_engine = build_engine(os.environ["DATABASE_URL"])
_sessions = sessionmaker(bind=_engine)


@app.get("/baseline")
def baseline() -> str:
    session: Session = _sessions()
    try:
        clinic = session.scalars(select(Clinic).order_by(Clinic.id).limit(1)).first()
        return render_template("baseline.html", clinic=clinic)
    finally:
        session.close()
