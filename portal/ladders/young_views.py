"""A 4-7-year-old logs a practice one thing per screen (issue 15, DESIGN §4 and §10).

Pick the step on the ladder → how scared before (faces) → do it → how scared at the worst moment
→ how it went (the button pressed is the answer and saves) → a star flies into the jar → back to
the ladder. Every screen is a plain link or form: the answers so far travel in the address (GET,
nothing is stored until the last screen), so it works without JavaScript; the last screen posts
to the same `log_practice` as every age band, with the practice's idempotency key.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from flask import Response, current_app, request, url_for
from jinja2 import Template
from markupsafe import Markup

from portal.audit_trail import audited
from portal.child.queries import require_child_case
from portal.ladders import bp
from portal.ladders.forms import ButtonForm, PracticeForm
from portal.ladders.queries import jar_totals
from portal.ladders.scales import FACES_3
from portal.models import Case
from portal.models.ladders import LadderStep
from portal.security import child_mode_allowed
from portal.web.htmx import render

STAGES = ("before", "do", "peak", "how")
JAR_SIZE = 20  # stars in one jar; a full jar is put on the shelf and a new one starts


@dataclass(frozen=True)
class YoungAnswers:
    key: str
    before: int | None
    peak: int | None

    def query(self, stage: str) -> dict[str, object]:
        """The address of a screen, carrying what was answered before it."""
        values: dict[str, object] = {"stage": stage, "key": self.key}
        if self.before is not None and stage in ("do", "peak", "how"):
            values["before"] = self.before
        if self.peak is not None and stage == "how":
            values["peak"] = self.peak
        return values


def _face(raw: str | None) -> int | None:
    if raw is None or not raw.isdigit():
        return None
    value = int(raw)
    return value if 0 <= value < len(FACES_3) else None


def _key(raw: str | None) -> str:
    try:
        return str(uuid.UUID(raw or ""))
    except ValueError:
        return str(uuid.uuid4())


def answers_from(values: Mapping[str, str]) -> YoungAnswers:
    return YoungAnswers(
        key=_key(values.get("key") or values.get("idempotency_key")),
        before=_face(values.get("before") or values.get("fear_before")),
        peak=_face(values.get("peak") or values.get("fear_peak")),
    )


def _stage(wanted: str | None, answers: YoungAnswers) -> str:
    """A screen whose earlier answer is missing (an edited address) asks that answer first."""
    stage = wanted if wanted in STAGES else "before"
    if stage != "before" and answers.before is None:
        return "before"
    if stage == "how" and answers.peak is None:
        return "peak"
    return stage


def young_practice_page(
    case: Case,
    step: LadderStep,
    *,
    stage: str | None,
    answers: YoungAnswers,
    form: PracticeForm,
    error: str | None = None,
    status: int = 200,
) -> Response:
    stage = _stage(stage, answers)
    previous = STAGES[STAGES.index(stage) - 1] if stage != "before" else None
    return render(
        "ladders/young_practice.html",
        case=case,
        child=case.child,
        step=step,
        stage=stage,
        screen=STAGES.index(stage) + 1,
        screens=len(STAGES),
        previous=previous,
        answers=answers,
        points=FACES_3,
        form=form,
        error=error,
        status=status,
    )


def young_practice_from_request(case: Case, step: LadderStep, form: PracticeForm) -> Response:
    return young_practice_page(
        case, step, stage=request.args.get("stage"), answers=answers_from(request.args), form=form
    )


def offline_pages(steps: list[LadderStep]) -> list[str]:
    """The screens a young child needs to log a try on these steps without a connection, beyond
    each step's first screen (linked from her ladder): her home (where the app opens), each
    step's other screens and the celebration. The service worker keeps them once, with
    placeholder answers that the page replaces from its own address (static/js/offline.js)."""
    screens = ("stage=do&before=0", "stage=peak&before=0", "stage=how&before=0&peak=0")
    pages = [
        f"{url_for('ladders.practice_form', step_id=step.id)}?{screen}"
        for step in steps
        for screen in screens
    ]
    return [url_for("child.home"), *pages, url_for("ladders.well_done", on_device=1)]


def jar_of_stars(balance: int, earned: int) -> dict[str, int]:
    """What the jar shows: the stars in the current jar, how many of them just arrived, and the
    full jars on the shelf. The newest star always lands in the jar, so the screen changes."""
    in_jar = (balance - 1) % JAR_SIZE + 1 if balance > 0 else 0
    return {
        "in_jar": in_jar,
        "new": max(0, min(earned, in_jar)),
        "full_jars": (balance - 1) // JAR_SIZE if balance > 0 else 0,
        "size": JAR_SIZE,
    }


@bp.app_template_global()
def drawn_jar(filled: int, new: int, size: int, stars: bool, cls: str) -> Markup:
    """The jar's drawing (templates/ladders/_jar.html's `jar_drawing`): it depends on these values
    alone, so it is drawn once per process for each (issue 17: some 80 template steps a star,
    on every visit to the child's screen). Kept per template object, so an edited template in
    debug mode draws anew."""
    template = current_app.jinja_env.get_template("ladders/_jar.html")
    return _drawn(template, filled, new, size, stars, cls)


@lru_cache(maxsize=512)
def _drawn(template: Template, filled: int, new: int, size: int, stars: bool, cls: str) -> Markup:
    drawing: Markup = template.module.jar_drawing(filled, new, size, stars, cls)  # type: ignore[attr-defined]
    return drawing


@bp.get("/me/ladder/well-done")
@audited("read")
@child_mode_allowed
def well_done() -> Response:
    """The celebration after a young child's practice: the stars just earned fly into the jar.

    `on_device=1` is the celebration for a try kept on the device without a connection (the
    service worker keeps this page and shows it then): her star waits in the phone, so it shows
    no jar and no count, only that the try was kept and will be sent."""
    case = require_child_case("practice.log")
    if request.args.get("on_device") == "1":
        return render("ladders/well_done.html", case=case, child=case.child, on_device=True)
    raw = request.args.get("earned", "")
    earned = int(raw) if raw.isdigit() and len(raw) < 3 else 0
    totals = jar_totals(case.id)
    return render(
        "ladders/well_done.html",
        case=case,
        child=case.child,
        earned=earned,
        mastered=request.args.get("mastered") == "1",
        balance=totals.balance,
        jar=jar_of_stars(totals.balance, earned),
        button_form=ButtonForm(formdata=None),
    )
