"""The access matrix (AZ-01, AZ-02): every route × every kind of person, in one declarative table.

Each (endpoint, method) of `app.url_map` has a row saying who may use it (its classification) and
the exact answer each actor gets. Ids in URLs are case1's real ids, so for G2, T2 and the admin they
name another family's objects, and for C1 a grown-up's page. The tests fail when:

- a rule has no row, or a row names a rule that no longer exists;
- an actor's answer differs from the table, and in particular any 2xx that the table does not list;
- an anonymous request to a non-public route gets anything but "please sign in"
  (302 → /login for a page, 401 with HX-Redirect for htmx);
- a route never answered with success to anybody during the run (Zulip's untested-URL gate).

POSTs carry a valid CSRF token and a valid form, so each answer is about authorization.
Every cell runs in its own rolled-back transaction: no cell's changes leak into the next.

A new route needs a row (and a success for someone). If its URL has a new argument, say which
object of the scene fills it (COMMON_ARGUMENTS or URL_ARGUMENTS) and add that object to the scene;
if it takes a POST, put a form that succeeds for the allowed actor in FORMS.
"""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask, g, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from portal import HTMX_FILE
from portal.auth.second_factor import STEP_SECONDS, time_step
from portal.cases.services import do_invite_guardian
from portal.db import utcnow
from portal.feedback import services as feedback
from portal.models import (
    AccountToken,
    CaseTherapist,
    DataRequest,
    PlanStatus,
    PlanVersion,
    Role,
    User,
)
from portal.models.feedback import CareAlert, SessionMode, SessionStatus
from portal.models.plans import (
    AssentChoice,
    Goal,
    GoalOwner,
    Informant,
    ProblemDomain,
    ResponseKind,
)
from portal.plans import services as plans
from portal.security import token_hash
from tests.conftest import Browser
from tests.factories import PASSWORD, PIN, TOTP_SECRET, World, born_years_ago, make_user
from tests.ladders.helpers import build_ladder_scene
from tests.messaging.helpers import build_threads

NEW_PASSWORD = "a long walk on the beach 2026"
ModelT = TypeVar("ModelT")
ACTORS = ("anon", "C1", "G1", "G2", "T1", "T2", "A")
SIGNED_IN_ACTORS = frozenset(ACTORS) - {"anon"}
SIGN_IN = {
    "C1": ("cody1", PIN),
    "G1": ("g1@family.test", PASSWORD),
    "G2": ("g2@family.test", PASSWORD),
    "T1": ("t1@clinic.test", PASSWORD),
    "T2": ("t2@clinic.test", PASSWORD),
    "A": ("a@clinic.test", PASSWORD),
}
HOME_OF = {
    "C1": "/me",
    "G1": "/family",
    "G2": "/family",
    "T1": "/caseload",
    "T2": "/caseload",
    "A": "/caseload",
}
# Who belongs to which family: nobody else may ever see that family's sentinel strings.
FAMILY_OF = {"C1": "F1", "G1": "F1", "T1": "F1", "G2": "F2", "T2": "F2"}
# Clinical wording of case1's plan goals: the child never sees it, even on their own pages.
CLINICAL_SENTINEL = "SENTINEL_F1_CLINICAL_GOAL_5e6f"


# --- What an actor is expected to get -------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    status: int
    to: str | None = None  # where a redirect goes: a path, or a name resolved by the scene
    allowed: bool = True  # the actor got to use the route (counts for the coverage gate)


OK = Expect(200)
NF = Expect(404, allowed=False)  # not found: a forbidden object looks exactly like a missing one
IN = Expect(302, "/login", allowed=False)  # anonymous: please sign in
NO = Expect(422, allowed=False)  # allowed in, but the form was refused (C1's PIN is no password)
HOME = Expect(302, "home")  # the actor's own home page
R_OUT = Expect(302, "/login?signed_out=1")
R_ME = Expect(302, "/me")
R_FAM = Expect(302, "/family")
R_CL = Expect(302, "/caseload")
R_F1 = Expect(302, "family-of-case1")
R_F2 = Expect(302, "family-of-case2")
S_CAS = Expect(303, "case1")
S_NEW = Expect(303, "new-case")
S_ADM = Expect(303, "/admin/therapists")
S_F1 = Expect(303, "family-of-case1")
S_ME = Expect(303, "/me")
S_FAM = Expect(303, "/family")
R_KPL = Expect(302, "/me/plan")
S_KPL = Expect(303, "/me/plan")
S_EDT = Expect(303, "draft-editor")
S_PRB = Expect(303, "problem-list")
S_HUB = Expect(303, "plan-hub")
S_FPL = Expect(303, "family-plan")
S_LED = Expect(303, "ladder-editor")
S_LB = Expect(303, "ladder-builder")
S_PRG = Expect(303, "ladder-progress")
S_LAD = Expect(303, "/me/ladder")
S_THR = Expect(303, "family-thread")
S_OFH = Expect(303, "/messages/office-hours")
READ = Expect(204)  # a read mark is a background post: nothing to show
# The live stream: without Redis there is none (204: the page polls); with REDIS_URL, 200.
LIVE = Expect(200) if os.environ.get("REDIS_URL") else Expect(204)
S_SES = Expect(303, "sessions")
S_CFB = Expect(303, "case-feedback")
S_BEF = Expect(303, "before-session")
S_FCK = Expect(303, "family-checkins")
S_DAT = Expect(303, "family-data")
S_DRQ = Expect(303, "/admin/data-requests")
R_LOG = Expect(302, "/login")  # a public form that ends on the sign-in page (reset, forgot)
S_BAK = Expect(303, "/account/password")  # back to the page the language was picked on


# --- Who may use a route (the classification) -----------------------------------------------------


@dataclass(frozen=True)
class Access:
    label: str
    actors: frozenset[str]  # the actors that may get a success answer, given case1's ids


def _access(label: str, *actors: str) -> Access:
    return Access(label, frozenset(actors))


PUBLIC = _access("public", *ACTORS)
SIGNED = _access("auth: anyone signed in", *SIGNED_IN_ACTORS)
THERAP = _access("role:therapist", "T1", "T2", "A")
ADMIN = _access("role:admin (a therapist with is_admin)", "A")
ONCASE = _access("role:therapist on the case", "T1")
GUARD = _access("role:guardian", "G1", "G2")
FAMILY = _access("role:guardian linked to the case", "G1")
MAKERS = _access("role:therapist on the case, or guardian who can consent", "T1", "G1")
SCREEN = _access("role:the child, or a guardian in child mode", "C1", "G1", "G2")
INMODE = _access("role:guardian in child mode", "G1", "G2")
MEMBER = _access("role:therapist, guardian or child of the case", "T1", "G1", "C1")
ADULTS = _access("role:therapist or guardian of the case", "T1", "G1")
ASSENT = _access("role:the child, or a guardian for a young child or in child mode", "C1", "G1")
TALKER = _access("role:therapist, guardian or teen (messaging)", "G1", "G2", "T1", "T2", "A")
GROWN = _access("role:therapist or guardian (signs in by email)", "G1", "G2", "T1", "T2", "A")
INTHREAD = _access("role:member of the thread (case1's family thread)", "T1", "G1")


# --- The table ------------------------------------------------------------------------------------

NORMAL = "normal"
IN_CHILD_MODE = "child-mode"  # each guardian has handed the device to their own child
BEFORE_CHILD_LOGIN = "no-child-login"  # case1's child has no sign-in of their own yet
PLAN_PROPOSED = "plan-proposed"  # case1's draft v2 is proposed, not yet signed off or answered
SECOND_STEP = "second-step"  # each therapist typed the password; the TOTP code is still due
ENROLLING = "enrolling"  # as SECOND_STEP, for therapists whose authenticator is not set up yet


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    state: str
    access: Access
    cells: dict[str, Expect]

    @property
    def key(self) -> tuple[str, str]:
        return (self.endpoint, self.method)

    def __str__(self) -> str:
        suffix = "" if self.state == NORMAL else f"[{self.state}]"
        return f"{self.method} {self.endpoint}{suffix}"


def _row_maker(state: str) -> Callable[..., Row]:
    def make(endpoint: str, method: str, access: Access, *cells: Expect) -> Row:
        return Row(endpoint, method, state, access, dict(zip(ACTORS, cells, strict=True)))

    return make


GET, POST = "GET", "POST"
row = _row_maker(NORMAL)
kid = _row_maker(IN_CHILD_MODE)
pre = _row_maker(BEFORE_CHILD_LOGIN)
pro = _row_maker(PLAN_PROPOSED)
two = _row_maker(SECOND_STEP)
enr = _row_maker(ENROLLING)

# fmt: off
MATRIX: list[Row] = [
    #   endpoint                     method access  anon   C1     G1     G2     T1     T2     A
    row("auth.home",                 GET,  SIGNED, IN,    HOME,  HOME,  HOME,  HOME,  HOME,  HOME),
    row("auth.login",                GET,  PUBLIC, OK,    HOME,  HOME,  HOME,  HOME,  HOME,  HOME),
    row("auth.login",                POST, PUBLIC, R_FAM, R_FAM, R_FAM, R_FAM, R_FAM, R_FAM, R_FAM),
    row("auth.kids_login",           GET,  PUBLIC, OK,    HOME,  HOME,  HOME,  HOME,  HOME,  HOME),
    row("auth.kids_login",           POST, PUBLIC, R_ME,  R_ME,  R_ME,  R_ME,  R_ME,  R_ME,  R_ME),
    row("auth.logout",               POST, SIGNED, IN,    R_OUT, R_OUT, R_OUT, R_OUT, R_OUT, R_OUT),
    row("auth.change_password",      GET,  SIGNED, IN,    OK,    OK,    OK,    OK,    OK,    OK),
    row("auth.change_password",      POST, SIGNED, IN,    NO,    HOME,  HOME,  HOME,  HOME,  HOME),
    row("auth.setup_account",        GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
    row("auth.setup_account",        POST, PUBLIC, R_CL,  R_CL,  R_CL,  R_CL,  R_CL,  R_CL,  R_CL),
    # The second sign-in step (AU-08): only a half sign-in reaches it; nobody else sees anything.
    row("auth.second_step",          GET,  PUBLIC, IN,    IN,    IN,    IN,    IN,    IN,    IN),
    two("auth.second_step",          GET,  PUBLIC, IN,    IN,    IN,    IN,    OK,    OK,    OK),
    row("auth.second_step",          POST, PUBLIC, IN,    IN,    IN,    IN,    IN,    IN,    IN),
    two("auth.second_step",          POST, PUBLIC, IN,    IN,    IN,    IN,    R_CL,  R_CL,  R_CL),
    row("auth.enrol",                GET,  PUBLIC, IN,    IN,    IN,    IN,    IN,    IN,    IN),
    enr("auth.enrol",                GET,  PUBLIC, IN,    IN,    IN,    IN,    OK,    OK,    OK),
    row("auth.enrol",                POST, PUBLIC, IN,    IN,    IN,    IN,    IN,    IN,    IN),
    enr("auth.enrol",                POST, PUBLIC, IN,    IN,    IN,    IN,    OK,    OK,    OK),
    row("auth.enrol_qr",             GET,  PUBLIC, NF,    NF,    NF,    NF,    NF,    NF,    NF),
    enr("auth.enrol_qr",             GET,  PUBLIC, NF,    NF,    NF,    NF,    OK,    OK,    OK),
    row("auth.confirm_password",     GET,  SIGNED, IN,    OK,    OK,    OK,    OK,    OK,    OK),
    row("auth.confirm_password",     POST, SIGNED, IN,    NO,    HOME,  HOME,  HOME,  HOME,  HOME),
    row("auth.change_email",         GET,  GROWN,  IN,    NF,    OK,    OK,    OK,    OK,    OK),
    row("auth.change_email",         POST, GROWN,  IN,    NF,    HOME,  HOME,  HOME,  HOME,  HOME),
    row("auth.forgot_password",      GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
    row("auth.forgot_password",      POST, PUBLIC, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG),
    row("auth.reset_password",       GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
    row("auth.reset_password",       POST, PUBLIC, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG),
    row("auth.set_language",         POST, PUBLIC, S_BAK, S_BAK, S_BAK, S_BAK, S_BAK, S_BAK, S_BAK),
    row("invitations.accept",        GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
    row("invitations.accept",        POST, PUBLIC, R_F1,  R_F1,  R_F1,  R_F1,  R_F1,  R_F1,  R_F1),
    row("admin.therapists",          GET,  ADMIN,  IN,    NF,    NF,    NF,    NF,    NF,    OK),
    row("admin.add_therapist",       POST, ADMIN,  IN,    NF,    NF,    NF,    NF,    NF,    S_ADM),
    row("audit.report",              GET,  ADMIN,  IN,    NF,    NF,    NF,    NF,    NF,    OK),
    row("audit.record_views",        GET,  ADULTS, IN,    NF,    OK,    NF,    OK,    NF,    NF),
    row("cases.caseload",            GET,  THERAP, IN,    NF,    NF,    NF,    OK,    OK,    OK),
    row("cases.open_case",           GET,  THERAP, IN,    NF,    NF,    NF,    OK,    OK,    OK),
    row("cases.open_case",           POST, THERAP, IN,    NF,    NF,    NF,    S_NEW, S_NEW, S_NEW),
    row("cases.case_page",           GET,  ONCASE, IN,    NF,    NF,    NF,    OK,    NF,    NF),
    row("cases.invite_guardian",     POST, ONCASE, IN,    NF,    NF,    NF,    S_CAS, NF,    NF),
    row("cases.revoke_invitation",   POST, ONCASE, IN,    NF,    NF,    NF,    S_CAS, NF,    NF),
    row("cases.end_guardian_link",   POST, ONCASE, IN,    NF,    NF,    NF,    S_CAS, NF,    NF),
    row("cases.set_restriction",     POST, ONCASE, IN,    NF,    NF,    NF,    S_CAS, NF,    NF),
    row("cases.add_therapist",       POST, ONCASE, IN,    NF,    NF,    NF,    S_CAS, NF,    NF),
    row("cases.remove_therapist",    POST, ONCASE, IN,    NF,    NF,    NF,    S_CAS, NF,    NF),
    row("cases.child_account",       GET,  MAKERS, IN,    NF,    NF,    NF,    NF,    NF,    NF),
    row("cases.child_account",       POST, MAKERS, IN,    NF,    NF,    NF,    NF,    NF,    NF),
    pre("cases.child_account",       GET,  MAKERS, IN,    NF,    OK,    NF,    OK,    NF,    NF),
    pre("cases.child_account",       POST, MAKERS, IN,    NF,    S_F1,  NF,    S_CAS, NF,    NF),
    row("family.home",               GET,  GUARD,  IN,    NF,    R_F1,  R_F2,  NF,    NF,    NF),
    row("family.case_page",          GET,  FAMILY, IN,    NF,    OK,    NF,    NF,    NF,    NF),
    row("family.record_consent",     POST, FAMILY, IN,    NF,    S_F1,  NF,    NF,    NF,    NF),
    row("family.enter_child_mode",   POST, FAMILY, IN,    NF,    S_ME,  NF,    NF,    NF,    NF),
    row("child.home",                GET,  SCREEN, IN,    OK,    NF,    NF,    NF,    NF,    NF),
    kid("child.home",                GET,  SCREEN, IN,    OK,    OK,    OK,    NF,    NF,    NF),
    row("child.leave",               GET,  INMODE, IN,    NF,    NF,    NF,    NF,    NF,    NF),
    kid("child.leave",               GET,  INMODE, IN,    NF,    OK,    OK,    NF,    NF,    NF),
    row("child.leave",               POST, INMODE, IN,    NF,    NF,    NF,    NF,    NF,    NF),
    kid("child.leave",               POST, INMODE, IN,    NF,    S_FAM, S_FAM, NF,    NF,    NF),
    # The treatment plan. Case1 has problems, an open task, an active v1 and a draft v2.
    row("plans.plan_hub",            GET,  ONCASE, IN,    NF,    NF,    NF,    OK,    NF,    NF),
    row("plans.start_draft",         POST, ONCASE, IN,    NF,    NF,    NF,    S_EDT, NF,    NF),
    row("plans.problems",            GET,  ONCASE, IN,    NF,    NF,    NF,    OK,    NF,    NF),
    row("plans.add_problem",         POST, ONCASE, IN,    NF,    NF,    NF,    S_PRB, NF,    NF),
    row("plans.move_problem",        POST, ONCASE, IN,    NF,    NF,    NF,    S_PRB, NF,    NF),
    row("plans.rate_problem",        POST, ONCASE, IN,    NF,    NF,    NF,    S_PRB, NF,    NF),
    row("plans.set_problem_status",  POST, ONCASE, IN,    NF,    NF,    NF,    S_PRB, NF,    NF),
    row("plans.resolve_task",        POST, ONCASE, IN,    NF,    NF,    NF,    S_HUB, NF,    NF),
    row("plans.edit",                GET,  ONCASE, IN,    NF,    NF,    NF,    OK,    NF,    NF),
    row("plans.save_details",        POST, ONCASE, IN,    NF,    NF,    NF,    S_EDT, NF,    NF),
    row("plans.add_goal",            POST, ONCASE, IN,    NF,    NF,    NF,    S_EDT, NF,    NF),
    row("plans.save_goal",           POST, ONCASE, IN,    NF,    NF,    NF,    S_EDT, NF,    NF),
    row("plans.remove_goal",         POST, ONCASE, IN,    NF,    NF,    NF,    S_EDT, NF,    NF),
    row("plans.add_intervention",    POST, ONCASE, IN,    NF,    NF,    NF,    S_EDT, NF,    NF),
    row("plans.remove_intervention", POST, ONCASE, IN,    NF,    NF,    NF,    S_EDT, NF,    NF),
    row("plans.propose",             POST, ONCASE, IN,    NF,    NF,    NF,    S_HUB, NF,    NF),
    pro("plans.sign_off",            POST, ONCASE, IN,    NF,    NF,    NF,    S_HUB, NF,    NF),
    row("plans.version",             GET,  MEMBER, IN,    R_KPL, OK,    NF,    OK,    NF,    NF),
    row("plans.changes",             GET,  ADULTS, IN,    NF,    OK,    NF,    OK,    NF,    NF),
    row("plans.printable",           GET,  ADULTS, IN,    NF,    OK,    NF,    OK,    NF,    NF),
    pro("plans.respond",             POST, FAMILY, IN,    NF,    S_FPL, NF,    NF,    NF,    NF),
    pro("plans.assent",              POST, ASSENT, IN,    S_KPL, NF,    NF,    NF,    NF,    NF),
    row("plans.rate_goal",           POST, MEMBER, IN,    S_KPL, S_FPL, NF,    S_HUB, NF,    NF),
    row("plans.family_plan",         GET,  FAMILY, IN,    NF,    OK,    NF,    NF,    NF,    NF),
    row("plans.suggest_priorities",  POST, FAMILY, IN,    NF,    S_FPL, NF,    NF,    NF,    NF),
    row("plans.request_review",      POST, FAMILY, IN,    NF,    S_FPL, NF,    NF,    NF,    NF),
    row("plans.child_plan",          GET,  SCREEN, IN,    OK,    NF,    NF,    NF,    NF,    NF),
    kid("plans.child_plan",          GET,  SCREEN, IN,    OK,    OK,    OK,    NF,    NF,    NF),
    # Sessions, feedback and alerts. Case1 has a held session awaiting feedback, G1's feedback on
    # an earlier session (with an alert it raised).
    row("feedback.sessions",          GET,  ONCASE, IN,    NF,    NF,    NF,    OK,    NF,    NF),
    row("feedback.record_session",    POST, ONCASE, IN,    NF,    NF,    NF,    S_SES, NF,    NF),
    row("feedback.set_session_status", POST, ONCASE, IN,   NF,    NF,    NF,    S_SES, NF,    NF),
    row("feedback.case_feedback",     GET,  ONCASE, IN,    NF,    NF,    NF,    OK,    NF,    NF),
    row("feedback.answer_feedback",   POST, ONCASE, IN,    NF,    NF,    NF,    S_CFB, NF,    NF),
    row("feedback.resolve_alert",     POST, ONCASE, IN,    NF,    NF,    NF,    S_CFB, NF,    NF),
    # Before the session: the therapists' page and their private agenda; no guardian, no child.
    row("feedback.before_session",    GET,  ONCASE, IN,    NF,    NF,    NF,    OK,    NF,    NF),
    row("feedback.save_agenda",       POST, ONCASE, IN,    NF,    NF,    NF,    S_BEF, NF,    NF),
    row("feedback.family_checkins",   GET,  FAMILY, IN,    NF,    OK,    NF,    NF,    NF,    NF),
    row("feedback.submit_checkin",    POST, FAMILY, IN,    NF,    S_FCK, NF,    NF,    NF,    NF),
    row("feedback.give_feedback",     GET,  FAMILY, IN,    NF,    OK,    NF,    NF,    NF,    NF),
    row("feedback.give_feedback",     POST, FAMILY, IN,    NF,    S_FCK, NF,    NF,    NF,    NF),
    row("feedback.child_feedback",    GET,  SCREEN, IN,    OK,    NF,    NF,    NF,    NF,    NF),
    kid("feedback.child_feedback",    GET,  SCREEN, IN,    OK,    OK,    NF,    NF,    NF,    NF),
    row("feedback.child_feedback",    POST, SCREEN, IN,    S_ME,  NF,    NF,    NF,    NF,    NF),
    kid("feedback.child_feedback",    POST, SCREEN, IN,    S_ME,  S_ME,  NF,    NF,    NF,    NF),
    # Messaging. Case1's family thread has a message from T1; case2's one from T2. C1 is 10:
    # children under 13 have no messaging.
    row("messages.inbox",            GET,  TALKER, IN,    NF,    OK,    OK,    OK,    OK,    OK),
    row("messages.case_threads",     GET,  ADULTS, IN,    NF,    OK,    NF,    OK,    NF,    NF),
    row("messages.open_thread",      POST, ADULTS, IN,    NF,    S_THR, NF,    S_THR, NF,    NF),
    row("messages.thread",           GET,  INTHREAD, IN,  NF,    OK,    NF,    OK,    NF,    NF),
    row("messages.send",             POST, INTHREAD, IN,  NF,    S_THR, NF,    S_THR, NF,    NF),
    row("messages.updates",          GET,  INTHREAD, IN,  NF,    OK,    NF,    OK,    NF,    NF),
    row("messages.stream",           GET,  INTHREAD, IN,  NF,    LIVE,  NF,    LIVE,  NF,    NF),
    row("messages.mark_read",        POST, INTHREAD, IN,  NF,    READ,  NF,    READ,  NF,    NF),
    row("messages.office_hours",     GET,  THERAP, IN,    NF,    NF,    NF,    OK,    OK,    OK),
    row("messages.save_office_hours", POST, THERAP, IN,   NF,    NF,    NF,    S_OFH, S_OFH, S_OFH),
    # Fear ladders and practice (issue 4). Case1 has a ladder of 3 steps, one practice, a step
    # idea waiting, and an approved 1-token reward that the child asked for.
    row("ladders.builder",           GET,  ONCASE, IN,    NF,    NF,    NF,    OK,    NF,    NF),
    row("ladders.add_ladder",        POST, ONCASE, IN,    NF,    NF,    NF,    S_LB,  NF,    NF),
    row("ladders.decide_suggestion", POST, ONCASE, IN,    NF,    NF,    NF,    S_LB,  NF,    NF),
    row("ladders.ladder",            GET,  ONCASE, IN,    NF,    NF,    NF,    OK,    NF,    NF),
    row("ladders.save_settings",     POST, ONCASE, IN,    NF,    NF,    NF,    S_LED, NF,    NF),
    row("ladders.add_step",          POST, ONCASE, IN,    NF,    NF,    NF,    S_LED, NF,    NF),
    row("ladders.save_step",         POST, ONCASE, IN,    NF,    NF,    NF,    S_LED, NF,    NF),
    row("ladders.move_step",         POST, ONCASE, IN,    NF,    NF,    NF,    S_LED, NF,    NF),
    row("ladders.retire_step",       POST, ONCASE, IN,    NF,    NF,    NF,    S_LED, NF,    NF),
    row("ladders.override_step",     POST, ONCASE, IN,    NF,    NF,    NF,    S_LED, NF,    NF),
    row("ladders.progress",          GET,  ADULTS, IN,    NF,    OK,    NF,    OK,    NF,    NF),
    row("ladders.cheer",             POST, ADULTS, IN,    NF,    S_PRG, NF,    S_PRG, NF,    NF),
    row("ladders.add_reward",        POST, ADULTS, IN,    NF,    S_PRG, NF,    S_PRG, NF,    NF),
    row("ladders.approve_reward",    POST, FAMILY, IN,    NF,    S_PRG, NF,    NF,    NF,    NF),
    row("ladders.confirm_redemption", POST, FAMILY, IN,   NF,    S_PRG, NF,    NF,    NF,    NF),
    row("ladders.suggest_step",      POST, FAMILY, IN,    NF,    S_PRG, NF,    NF,    NF,    NF),
    row("ladders.child_ladder",      GET,  SCREEN, IN,    OK,    NF,    NF,    NF,    NF,    NF),
    kid("ladders.child_ladder",      GET,  SCREEN, IN,    OK,    OK,    OK,    NF,    NF,    NF),
    row("ladders.practice_form",     GET,  SCREEN, IN,    OK,    NF,    NF,    NF,    NF,    NF),
    kid("ladders.practice_form",     GET,  SCREEN, IN,    OK,    OK,    NF,    NF,    NF,    NF),
    row("ladders.log_practice",      POST, SCREEN, IN,    S_LAD, NF,    NF,    NF,    NF,    NF),
    kid("ladders.log_practice",      POST, SCREEN, IN,    S_LAD, S_LAD, NF,    NF,    NF,    NF),
    row("ladders.child_suggest_step", POST, SCREEN, IN,   S_LAD, NF,    NF,    NF,    NF,    NF),
    kid("ladders.child_suggest_step", POST, SCREEN, IN,   S_LAD, S_LAD, NO,    NF,    NF,    NF),
    row("ladders.ask_reward",        POST, SCREEN, IN,    S_LAD, NF,    NF,    NF,    NF,    NF),
    kid("ladders.ask_reward",        POST, SCREEN, IN,    S_LAD, S_LAD, NF,    NF,    NF,    NF),
    row("ladders.cheers_seen",       POST, SCREEN, IN,    S_LAD, NF,    NF,    NF,    NF,    NF),
    kid("ladders.cheers_seen",       POST, SCREEN, IN,    S_LAD, S_LAD, S_LAD, NF,    NF,    NF),
    # Data rights (CO-02). Case2's guardian has a deletion request waiting for the clinic admin.
    row("rights.data_page",          GET,  FAMILY, IN,    NF,    OK,    NF,    NF,    NF,    NF),
    row("rights.export_json",        GET,  FAMILY, IN,    NF,    OK,    NF,    NF,    NF,    NF),
    row("rights.printable",          GET,  FAMILY, IN,    NF,    OK,    NF,    NF,    NF,    NF),
    row("rights.request_deletion",   POST, FAMILY, IN,    NF,    S_DAT, NF,    NF,    NF,    NF),
    row("rights.close_child_account", POST, FAMILY, IN,   NF,    S_DAT, NF,    NF,    NF,    NF),
    row("rights.admin_requests",     GET,  ADMIN,  IN,    NF,    NF,    NF,    NF,    NF,    OK),
    row("rights.complete_request",   POST, ADMIN,  IN,    NF,    NF,    NF,    NF,    NF,    S_DRQ),
    row("static",                    GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
]
# fmt: on

# Which object fills an argument whose name alone is ambiguous.
URL_ARGUMENTS: dict[str, dict[str, str]] = {
    "cases.end_guardian_link": {"link_id": "guardian_link"},
    "cases.set_restriction": {"link_id": "guardian_link"},
    "cases.remove_therapist": {"link_id": "therapist_link"},
    "invitations.accept": {"token": "invitation_token"},
    "auth.setup_account": {"token": "setup_token"},
    "auth.reset_password": {"token": "reset_token"},
    # The family-facing plan pages and progress ratings name the active plan; the proposal
    # answers name the open version (proposed in their rows' state); editing names the draft.
    "plans.version": {"plan_id": "active_plan"},
    "plans.changes": {"plan_id": "active_plan"},
    "plans.printable": {"plan_id": "active_plan"},
    "plans.rate_goal": {"plan_id": "active_plan", "goal_id": "active_goal"},
}
COMMON_ARGUMENTS = {
    "case_id": "case",
    "invitation_id": "invitation",
    "filename": "static_file",
    "plan_id": "draft_plan",
    "goal_id": "draft_goal",
    "item_id": "draft_intervention",
    "problem_id": "problem",
    "task_id": "task",
    "ladder_id": "ladder",
    "step_id": "step",
    "attempt_id": "attempt",
    "suggestion_id": "suggestion",
    "reward_id": "reward",
    "redemption_id": "redemption",
    "thread_id": "family_thread",
    "session_id": "session",
    "feedback_id": "feedback",
    "alert_id": "alert",
    "request_id": "data_request",
}

GOAL_FORM = {
    "child_text": "Stay at a friend's house for a sleepover",
    "clinical_text": "Tolerate an overnight separation",
    "owner": "shared",
    "benchmarks-0-measure": "Nights away",
    "benchmarks-0-target": "1",
    "benchmarks-0-due_on": (utcnow().date() + timedelta(days=60)).isoformat(),
}

# A valid form for each POST: the actor in the table that may use the route succeeds with it.
FORMS: dict[str, Callable[[Scene], dict[str, str]]] = {
    "auth.login": lambda _: {"email": "g1@family.test", "password": PASSWORD},
    "auth.kids_login": lambda _: {"username": "cody1", "secret": PIN},
    "auth.change_password": lambda _: {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    },
    "auth.setup_account": lambda _: {
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    },
    "auth.second_step": lambda _: {"code": authenticator_code()},
    "auth.enrol": lambda _: {"code": authenticator_code()},
    "auth.confirm_password": lambda _: {"password": PASSWORD},
    "auth.change_email": lambda _: {"email": "moved@family.test"},
    "auth.forgot_password": lambda _: {"email": "g1@family.test"},
    "auth.reset_password": lambda _: {
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    },
    "auth.set_language": lambda _: {"language": "es", "next": "/account/password"},
    "invitations.accept": lambda _: {
        "display_name": "Alex Aunt",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        "treatment": "y",
        "portal_terms": "y",
        "messaging_policy": "y",
        "parental_consent_under_13": "y",
    },
    "admin.add_therapist": lambda _: {"display_name": "Dr. Newcomer", "email": "new@clinic.test"},
    "cases.open_case": lambda _: {
        "first_name": "Nova",
        "last_name": "Newcase",
        "date_of_birth": born_years_ago(9).isoformat(),
        "concern": "Worries about school",
    },
    "cases.invite_guardian": lambda _: {
        "email": "uncle@family.test",
        "relationship_label": "Uncle",
        "household": "Uncle's flat",
        "has_legal_authority": "y",
        "can_consent": "y",
    },
    "cases.add_therapist": lambda _: {"email": "colleague@clinic.test"},
    "cases.child_account": lambda _: {"username": "cody.new", "secret": "2468", "confirm": "2468"},
    "family.record_consent": lambda _: {"kind": "portal_terms", "action": "granted"},
    "child.leave": lambda _: {"password": PASSWORD},
    "plans.add_problem": lambda _: {
        "child_words": "I worry at night",
        "clinical_words": "Night-time worry",
        "domain": "other",
        "reported_by": "Mother",
    },
    "plans.move_problem": lambda _: {"direction": "down"},
    "plans.rate_problem": lambda _: {"informant": "therapist", "severity": "5"},
    "plans.set_problem_status": lambda _: {"status": "monitoring"},
    "plans.resolve_task": lambda _: {"note": "Talked it through"},
    "plans.save_details": lambda scene: {
        "edit_version": scene.draft_edit_version(),
        "change_summary": "We add a goal about mornings.",
        "review_interval_days": "60",
    },
    "plans.add_goal": lambda _: GOAL_FORM,
    "plans.save_goal": lambda scene: {**GOAL_FORM, "edit_version": scene.goal_edit_version()},
    "plans.add_intervention": lambda _: {"what": "Worry time", "who": "Cody", "how_often": "Daily"},
    "plans.propose": lambda scene: {"edit_version": scene.draft_edit_version(), "sign_off": "y"},
    "plans.respond": lambda _: {"kind": "accept", "comment": ""},
    "plans.assent": lambda _: {"choice": "yes"},
    "plans.rate_goal": lambda _: {"value": "7"},
    "messages.open_thread": lambda _: {"kind": "family"},
    "messages.send": lambda _: {"body": "Thank you!", "idempotency_key": str(uuid.uuid4())},
    "messages.mark_read": lambda _: {"seq": "1"},
    "messages.save_office_hours": lambda _: {
        "office_days": ["0", "1", "2", "3"],
        "opens_at": "08:30",
        "closes_at": "16:00",
        "reply_window_days": "3",
    },
    "plans.suggest_priorities": lambda _: {"comment": "Mornings first, please"},
    "plans.request_review": lambda _: {"review-comment": "Time to look at the plan again"},
    "ladders.add_ladder": lambda scene: {
        "goal": str(scene.values["goal_key"]),
        "title": "Brave at bedtime",
        "mastery_peak_max": "2",
        "mastery_days": "3",
        "weekly_target": "4",
    },
    "ladders.decide_suggestion": lambda _: {"decision": "approve", "fear_rating": "4"},
    "ladders.save_settings": lambda _: {
        "title": "Brave with dogs",
        "mastery_peak_max": "2",
        "mastery_days": "3",
        "weekly_target": "5",
    },
    "ladders.add_step": lambda _: {"title": "Wave at a dog", "picture": "👋", "fear_rating": "3.5"},
    "ladders.save_step": lambda _: {"title": "Dog books", "picture": "", "fear_rating": "2"},
    "ladders.move_step": lambda _: {"direction": "down"},
    "ladders.override_step": lambda _: {"status": "mastered"},
    "ladders.cheer": lambda _: {"sticker": "⭐", "message": "So brave!"},
    "ladders.add_reward": lambda _: {"title": "Pizza night", "picture": "", "cost": "10"},
    "ladders.suggest_step": lambda scene: {
        "ladder_id": str(scene.values["ladder"]),
        "title": "Walk past the dog park",
    },
    "ladders.log_practice": lambda _: {
        "idempotency_key": str(uuid.uuid4()),
        "when": "now",
        "fear_before": "3",
        "fear_peak": "4",
        "fear_after": "1",
        "completion": "partial",
        "coach": "",
    },
    "ladders.child_suggest_step": lambda scene: {
        "ladder_id": str(scene.values["ladder"]),
        "title": "Pat a puppy",
    },
    "feedback.record_session": lambda _: {
        "day": (utcnow().date() + timedelta(days=7)).isoformat(),
        "time": "16:00",
        "mode": "video",
        "status": "scheduled",
        "attendees": "",
    },
    "feedback.set_session_status": lambda _: {"status": "missed"},
    "feedback.answer_feedback": lambda _: {"answer": "Thank you, we changed the time."},
    "feedback.resolve_alert": lambda _: {"note": "Phoned the family"},
    "feedback.save_agenda": lambda _: {"text": "Ask about bedtime first"},
    "cases.set_restriction": lambda _: {"restriction": "own_household_only"},
    "feedback.submit_checkin": lambda _: {
        "idempotency_key": str(uuid.uuid4()),
        "week": feedback.checkin_week_due().isoformat(),
        "practice_days": "4",
        "difficulty": "5",
        "accommodations": "Stayed close at bedtime",
        "reducing": "Staying close",
        "observation": "",
    },
    "feedback.give_feedback": lambda _: {
        "idempotency_key": str(uuid.uuid4()),
        **{item: "8" for item in ("heard", "matters", "approach", "overall")},
        "comment": "",
    },
    "feedback.child_feedback": lambda _: {"idempotency_key": str(uuid.uuid4()), "raw": "4"},
    "rights.request_deletion": lambda _: {"reason": "We are moving away", "confirm": "y"},
    "rights.close_child_account": lambda _: {"confirm": "y"},
    "rights.complete_request": lambda _: {"confirm": "y"},
}


# --- The scene: case1's objects that the URLs name ------------------------------------------------


@dataclass
class Scene:
    world: World
    values: dict[str, object]
    db_session: Session

    def url(self, app: Flask, row: Row) -> str:
        rule = rule_for(app, row.endpoint)
        names = {**COMMON_ARGUMENTS, **URL_ARGUMENTS.get(row.endpoint, {})}
        missing = rule.arguments - names.keys()
        assert not missing, (
            f"{rule.rule}: say which object fills {sorted(missing)} in URL_ARGUMENTS"
        )
        arguments = {argument: self.values[names[argument]] for argument in rule.arguments}
        with app.test_request_context():
            return url_for(row.endpoint, **arguments)

    def destination(self, name: str, actor: str) -> str:
        case1 = self.world.case1.id
        named = {
            "home": HOME_OF.get(actor, "/login"),
            "case1": f"/cases/{case1}",
            "family-of-case1": f"/family/{case1}",
            "family-of-case2": f"/family/{self.world.case2.id}",
            "draft-editor": f"/plans/{self.values['draft_plan']}/edit",
            "problem-list": f"/cases/{case1}/problems",
            "plan-hub": f"/cases/{case1}/plan",
            "family-plan": f"/family/{case1}/plan",
            "ladder-editor": f"/ladders/{self.values.get('ladder')}",
            "ladder-builder": f"/cases/{case1}/ladders",
            "ladder-progress": f"/cases/{case1}/progress",
            "family-thread": f"/messages/{self.values['family_thread']}",
            "sessions": f"/cases/{case1}/sessions",
            "case-feedback": f"/cases/{case1}/feedback",
            "before-session": f"/cases/{case1}/before-session",
            "family-checkins": f"/family/{case1}/checkins",
            "family-data": f"/family/{case1}/data",
        }
        return named.get(name, name)

    def draft_edit_version(self) -> str:
        return str(self.current(PlanVersion, self.values["draft_plan"]).edit_version)

    def goal_edit_version(self) -> str:
        return str(self.current(Goal, self.values["draft_goal"]).edit_version)

    def current(self, model: type[ModelT], object_id: object) -> ModelT:
        found = self.db_session.get(model, object_id, populate_existing=True)
        assert found is not None
        return found


@pytest.fixture()
def scene(app: Flask, db_session: Session, world: World) -> Scene:
    """case1 also has a co-therapist (T3) to remove and an open invitation; a colleague waits to
    be added; a new therapist has a password-setup link; and case1 has a treatment plan."""
    clinic = world.clinic
    t3 = make_user(
        db_session, Role.THERAPIST, "Dr. Uma Three", email="t3@clinic.test", clinic=clinic
    )
    make_user(
        db_session,
        Role.THERAPIST,
        "Dr. Nia Colleague",
        email="colleague@clinic.test",
        clinic=clinic,
    )
    therapist_link = CaseTherapist(
        case_id=world.case1.id, therapist_id=t3.id, added_by_id=world.t1.id
    )
    newcomer = make_user(
        db_session, Role.THERAPIST, "Dr. Fresh Start", email="fresh@clinic.test", clinic=clinic
    )
    setup_token = secrets.token_urlsafe(32)
    reset_token = secrets.token_urlsafe(32)  # G1 asked to reset their password
    db_session.add_all(
        [
            therapist_link,
            AccountToken(
                user_id=world.g1.id,
                purpose="reset",
                token_hash=token_hash(reset_token),
                expires_at=utcnow() + timedelta(hours=1),
            ),
            AccountToken(
                user_id=newcomer.id,
                purpose="setup",
                token_hash=token_hash(setup_token),
                expires_at=utcnow() + timedelta(days=3),
            ),
        ]
    )
    db_session.commit()
    with services_on(app, db_session):
        new = do_invite_guardian(
            world.t1,
            world.case1,
            email="aunt@family.test",
            relationship_label="Aunt",
            household="Aunt's house",
            has_legal_authority=True,
            can_consent=True,
        )
    plan = build_plan(app, db_session, world)
    goal_key = scene_goal_key(db_session, plan["active_goal"])
    ladders = build_ladder_scene(app, db_session, world.t1, world.c1, world.case1, goal_key)
    threads = build_threads(app, db_session, world)
    sessions_and_feedback = build_feedback(app, db_session, world)
    return Scene(
        world,
        {
            **plan,
            **ladders,
            **threads,
            **sessions_and_feedback,
            "case": world.case1.id,
            "guardian_link": world.link1.id,
            "therapist_link": therapist_link.id,
            "invitation": new.invitation.id,
            "invitation_token": new.link.rsplit("/", 1)[1],
            "setup_token": setup_token,
            "reset_token": reset_token,
            "static_file": HTMX_FILE,
            "data_request": build_data_request(db_session, world),
        },
        db_session,
    )


def build_data_request(db_session: Session, world: World) -> int:
    """Case2's guardian asked the clinic to delete their child's data."""
    request = DataRequest(case_id=world.case2.id, requested_by_id=world.g2.id, reason="Moving")
    db_session.add(request)
    db_session.commit()
    return request.id


def scene_goal_key(db_session: Session, goal_id: int) -> str:
    goal = db_session.get(Goal, goal_id)
    assert goal is not None
    return goal.lineage_key


def build_plan(app: Flask, db_session: Session, world: World) -> dict[str, int]:
    """Case1's plan through the real services: two problems, v1 accepted and assented (active),
    v2 a draft copied from it with one intervention, and a family suggestion waiting as a task."""
    t1, case1 = world.t1, world.case1
    with services_on(app, db_session):
        first_problem = None
        for words in ("I get scared when Mum leaves", "Bedtime is scary"):
            problem = plans.do_add_problem(
                t1,
                case1,
                child_words=words,
                clinical_words=f"Clinical: {words}",
                domain=ProblemDomain.SEPARATION,
                reported_by="Mother",
                severities={Informant.GUARDIAN: 6},
            )
            first_problem = first_problem or problem
        active = plans.do_start_draft(t1, case1)
        for text in ("Say goodbye at school", "Sleep in my own bed"):
            plans.do_add_goal(t1, active, case1, _goal(text))
        plans.do_save_plan_details(
            t1,
            active,
            expected_edit_version=active.edit_version,
            change_summary="Our first plan.",
            review_interval_days=90,
        )
        plans.do_propose(t1, active, expected_edit_version=active.edit_version, sign_off=True)
        plans.do_guardian_response(world.g1, active, case1, kind=ResponseKind.ACCEPT, comment="")
        plans.do_record_assent(world.c1, active, case1, choice=AssentChoice.YES)
        assert active.status is PlanStatus.ACTIVE
        draft = plans.do_start_draft(t1, case1)
        draft.change_summary = "We add a goal about mornings."
        plans.do_add_intervention(t1, draft, what="Brave ladder", who="Family", how_often="Daily")
        task = plans.do_suggest_priorities(world.g1, case1, "Mornings are hardest")
    assert first_problem is not None
    return {
        "problem": first_problem.id,
        "task": task.id,
        "active_plan": active.id,
        "active_goal": active.goals[0].id,
        "draft_plan": draft.id,
        "draft_goal": draft.goals[0].id,
        "draft_intervention": draft.interventions[0].id,
    }


def build_feedback(app: Flask, db_session: Session, world: World) -> dict[str, int]:
    """Two held sessions of case1: G1 rated the first low (raising an alert); the second waits."""
    world.link1.valid_from = utcnow() - timedelta(days=30)  # Gwen joined before both sessions
    came = {
        feedback.guardian_key(world.g1.id): SessionMode.IN_PERSON,
        feedback.child_key(world.case1): SessionMode.IN_PERSON,
    }
    with services_on(app, db_session):
        earlier, latest = (
            feedback.do_record_session(
                world.t1,
                world.case1,
                starts_at=utcnow() - timedelta(days=days),
                mode=SessionMode.IN_PERSON,
                status=SessionStatus.HELD,
                attendees="Cody and Gwen",
                attendance=came,
            )
            for days in (8, 1)
        )
        given = feedback.do_submit_guardian_feedback(
            world.g1,
            world.case1,
            earlier,
            heard=2,
            matters=6,
            approach=6,
            overall=5,
            comment="SENTINEL_F1_FEEDBACK_TEXT_d00d",
            idempotency_key=str(uuid.uuid4()),
        )
    alert = db_session.scalars(select(CareAlert).where(CareAlert.case_id == world.case1.id)).one()
    return {"session": latest.id, "feedback": given.id, "alert": alert.id}


@contextmanager
def services_on(app: Flask, db_session: Session) -> Iterator[None]:
    """Call services directly, on the test's own session, then commit."""
    with app.test_request_context():
        g.db_session = db_session
        yield
        db_session.commit()
        g.pop("db_session")  # else the request's teardown closes the test's session


def _goal(text: str) -> plans.GoalInput:
    due = utcnow().date() + timedelta(days=60)
    return plans.GoalInput(
        child_text=text,
        clinical_text=f"{CLINICAL_SENTINEL}: {text}",
        owner=GoalOwner.SHARED,
        benchmarks=[plans.BenchmarkInput("Brave steps", "3 steps", due)],
    )


# --- Helpers --------------------------------------------------------------------------------------


def rule_for(app: Flask, endpoint: str) -> Rule:
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    assert len(rules) == 1, f"{endpoint} has {len(rules)} URL rules; the matrix assumes one"
    return rules[0]


def route_keys(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def authenticator_code() -> str:
    """What the test therapists' authenticator app shows now (tests/factories.py TOTP_SECRET)."""
    return pyotp.TOTP(TOTP_SECRET).at(time_step(utcnow()) * STEP_SECONDS)


def form_for(row: Row, scene: Scene) -> dict[str, str]:
    make = FORMS.get(row.endpoint)
    return make(scene) if make else {}


def sign_in(new_browser: Callable[[], Browser], actor: str) -> Browser:
    browser = new_browser()
    if actor != "anon":
        browser.login(*SIGN_IN[actor])
    return browser


def enter_state(state: str, actor: str, browser: Browser, scene: Scene, app: Flask) -> None:
    world, db_session = scene.world, scene.db_session
    if state == IN_CHILD_MODE and actor in ("G1", "G2"):
        own_case = world.case1 if actor == "G1" else world.case2
        response = browser.post(f"/family/{own_case.id}/child-mode")
        assert response.status_code == 303, response.status_code
    elif state == BEFORE_CHILD_LOGIN:
        world.case1.child.user_id = None
        db_session.commit()
    elif state in (SECOND_STEP, ENROLLING) and actor in ("T1", "T2", "A"):
        email, password = SIGN_IN[actor]
        therapist = db_session.scalars(select(User).where(User.email == email)).one()
        therapist.totp_last_step = None  # their last code was long ago
        if state == ENROLLING:
            therapist.totp_enrolled_at = None
        db_session.commit()
        browser.post("/logout")
        browser.auto_second_step = False
        browser.get("/login")
        response = browser.post("/login", {"email": email, "password": password})
        assert response.headers["Location"] in ("/login/code", "/login/enrol"), response.headers
        browser.get(response.headers["Location"])
    elif state == PLAN_PROPOSED:
        draft = scene.current(PlanVersion, scene.values["draft_plan"])
        with services_on(app, db_session):
            plans.do_propose(
                world.t1, draft, expected_edit_version=draft.edit_version, sign_off=False
            )


def leaked_sentinels(actor: str, body: str) -> list[str]:
    own = FAMILY_OF.get(actor)
    leaks = [f"SENTINEL_{fam}" for fam in ("F1", "F2") if fam != own and f"SENTINEL_{fam}" in body]
    if actor == "C1" and CLINICAL_SENTINEL in body:
        leaks.append(CLINICAL_SENTINEL)
    return leaks


def check_answer(
    response: TestResponse, expected: Expect, scene: Scene, actor: str, where: str
) -> None:
    status = response.status_code
    body = response.get_data(as_text=True)
    if 200 <= status < 300:
        assert expected.allowed, f"{where}: {actor} got {status}, which the matrix does not list"
    assert status == expected.status, f"{where}: {actor} got {status}, expected {expected.status}"
    if expected.to is not None:
        location = urlsplit(response.headers.get("Location", ""))
        target = scene.destination(expected.to, actor)
        if target == "new-case":
            match = re.fullmatch(r"/cases/(\d+)", location.path)
            assert match, f"{where}: went to {location.path}"
            assert int(match.group(1)) not in (scene.world.case1.id, scene.world.case2.id)
        elif "?" in target:
            assert f"{location.path}?{location.query}" == target, f"{where}: went to {location}"
        else:
            assert location.path == target, f"{where}: {actor} went to {location.path}"
            assert target == "/login" or not location.query, f"{where}: went to {location}"
    assert not leaked_sentinels(actor, body), (
        f"{where}: {actor} saw {leaked_sentinels(actor, body)}"
    )


# What the coverage gate sees: which cells ran, and which routes answered someone with success.
CELLS = [(row, actor) for row in MATRIX for actor in ACTORS]
RAN: set[tuple[str, str, str, str]] = set()
EXERCISED: set[tuple[str, str]] = set()


def _cell_id(row: Row, actor: str) -> tuple[str, str, str, str]:
    return (row.endpoint, row.method, row.state, actor)


# --- The table is complete and consistent ---------------------------------------------------------


def test_AZ01_every_rule_in_the_url_map_has_a_row(app: Flask) -> None:
    rows = {r.key for r in MATRIX}
    missing = sorted(route_keys(app) - rows)
    assert not missing, f"routes with no row in the access matrix: {missing}"


def test_AZ01_every_row_names_a_rule_that_exists(app: Flask) -> None:
    stale = sorted({r.key for r in MATRIX} - route_keys(app))
    assert not stale, f"matrix rows for routes that no longer exist: {stale}"


def test_AZ01_each_route_and_state_has_one_row() -> None:
    seen = [(r.endpoint, r.method, r.state) for r in MATRIX]
    assert len(seen) == len(set(seen))


def test_AZ01_public_rows_are_exactly_the_views_marked_public(app: Flask) -> None:
    for r in MATRIX:
        view = app.view_functions[r.endpoint]
        marked_public = bool(getattr(view, "is_public", False)) or r.endpoint == "static"
        assert (r.access is PUBLIC) == marked_public, f"{r}: classified {r.access.label}"


def test_AZ01_anonymous_is_sent_to_sign_in_on_every_non_public_row() -> None:
    for r in MATRIX:
        if r.access is not PUBLIC:
            assert r.cells["anon"] == IN, f"{r}: anonymous must be asked to sign in"


def test_AZ02_only_the_classified_actors_are_ever_allowed() -> None:
    for r in MATRIX:
        allowed = {actor for actor, expect in r.cells.items() if expect.allowed}
        assert allowed <= r.access.actors, f"{r}: {sorted(allowed - r.access.actors)} not in class"


def test_AZ01_every_route_has_someone_who_may_use_it() -> None:
    for key in {r.key for r in MATRIX} - {("static", "GET")}:
        assert any(expect.allowed for r in MATRIX if r.key == key for expect in r.cells.values()), (
            f"{key}: no actor in the matrix may use it; add a happy path"
        )


# --- The matrix, cell by cell ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "actor"), CELLS, ids=[f"{r.endpoint}-{r.method}-{r.state}-{a}" for r, a in CELLS]
)
def test_AZ02_role_route_matrix(
    app: Flask,
    db_session: Session,
    world: World,
    scene: Scene,
    new_browser: Callable[[], Browser],
    row: Row,
    actor: str,
) -> None:
    RAN.add(_cell_id(row, actor))
    browser = sign_in(new_browser, actor)
    enter_state(row.state, actor, browser, scene, app)
    url = scene.url(app, row)
    form = form_for(row, scene)
    response = browser.get(url) if row.method == "GET" else browser.post(url, form)
    expected = row.cells[actor]
    with response:  # static files are streamed; close them
        check_answer(response, expected, scene, actor, f"{row.method} {url} [{row.state}]")
    if expected.allowed:
        EXERCISED.add(row.key)


NON_PUBLIC = [r for r in MATRIX if r.access is not PUBLIC and r.state == NORMAL]


@pytest.mark.parametrize("row", NON_PUBLIC, ids=[f"{r.endpoint}-{r.method}" for r in NON_PUBLIC])
def test_AZ01_anonymous_htmx_request_gets_401_with_hx_redirect(
    app: Flask, scene: Scene, browser: Browser, row: Row
) -> None:
    url = scene.url(app, row)
    response = browser.htmx(row.method, url, form_for(row, scene))
    assert response.status_code == 401, f"{row}: {response.status_code}"
    assert urlsplit(response.headers["HX-Redirect"]).path == "/login"
    assert "SENTINEL" not in response.get_data(as_text=True)


@pytest.mark.parametrize("actor", ["anon", "G1", "T1", "A"])
def test_AZ02_methods_a_route_does_not_declare_answer_405(
    app: Flask, scene: Scene, new_browser: Callable[[], Browser], actor: str
) -> None:
    browser = sign_in(new_browser, actor)
    token = browser.ensure_token()
    adapter = app.url_map.bind("localhost")
    urls = {scene.url(app, r) for r in MATRIX if r.state == NORMAL}
    for url in sorted(urls):
        declared = set(adapter.allowed_methods(url))
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - declared):
            response = browser.client.open(url, method=method, headers={"X-CSRFToken": token})
            assert response.status_code == 405, f"{actor} {method} {url}: {response.status_code}"


@pytest.mark.parametrize("actor", ["anon", "C1", "G1", "T1", "A"])
def test_AZ02_head_answers_exactly_like_get(
    app: Flask, scene: Scene, new_browser: Callable[[], Browser], actor: str
) -> None:
    browser = sign_in(new_browser, actor)
    for r in MATRIX:
        if r.method == "GET" and r.state == NORMAL:
            url = scene.url(app, r)
            with browser.client.head(url) as response:
                check_answer(response, r.cells[actor], scene, actor, f"HEAD {url}")


def test_AZ01_anonymous_options_requests_are_sent_to_sign_in(
    app: Flask, scene: Scene, browser: Browser
) -> None:
    for r in NON_PUBLIC:
        url = scene.url(app, r)
        response = browser.client.options(url)
        assert response.status_code == 302, f"OPTIONS {url}: {response.status_code}"
        assert urlsplit(response.headers["Location"]).path == "/login"


# While a guardian has handed the device to their child, only these answer (security.py).
CHILD_MODE_REACHABLE = {
    "child.home",
    "child.leave",
    "auth.logout",
    "static",
    "plans.child_plan",
    "plans.assent",
    "plans.rate_goal",
    "feedback.child_feedback",
    "ladders.child_ladder",
    "ladders.practice_form",
    "ladders.log_practice",
    "ladders.child_suggest_step",
    "ladders.ask_reward",
    "ladders.cheers_seen",
}


def test_AZ02_in_child_mode_every_grown_up_route_leads_back_to_the_child(
    app: Flask, db_session: Session, world: World, scene: Scene, browser: Browser
) -> None:
    browser.login("g1@family.test")
    enter_state(IN_CHILD_MODE, "G1", browser, scene, app)
    for r in NON_PUBLIC:
        if r.endpoint in CHILD_MODE_REACHABLE:
            continue
        url = scene.url(app, r)
        data = form_for(r, scene)
        response = browser.get(url) if r.method == "GET" else browser.post(url, data)
        assert response.status_code == 302, f"{r}: {response.status_code}"
        assert response.headers["Location"] == "/me", f"{r}: {response.headers['Location']}"
        fragment = browser.htmx(r.method, url, data)
        assert fragment.status_code == 204, f"{r} (htmx): {fragment.status_code}"
        assert fragment.headers["HX-Redirect"] == "/me"
    assert browser.get("/me").status_code == 200  # still the child's screen, nothing changed


def test_AZ01_invalid_token_links_answer_404_to_everyone(
    new_browser: Callable[[], Browser], world: World
) -> None:
    bogus = secrets.token_urlsafe(32)
    for actor in ACTORS:
        browser = sign_in(new_browser, actor)
        for url in (f"/invite/{bogus}", f"/account/setup/{bogus}"):
            response = browser.get(url)
            assert response.status_code == 404, f"{actor} {url}"
            assert "This link does not work any more" in response.get_data(as_text=True)
            posted = browser.post(url, {"new_password": NEW_PASSWORD})
            assert posted.status_code == 404, f"{actor} POST {url}"


def test_AZ01_missing_static_file_is_404(browser: Browser) -> None:
    assert browser.get("/static/vendor/no-such-file.js").status_code == 404
    assert browser.get("/static/../portal/config.py").status_code == 404


def test_AZ01_gate_every_route_answered_success_to_someone(app: Flask) -> None:
    """Zulip-style: a route that nobody ever used successfully in the matrix run is untested.

    Runs last in this module; when only part of the matrix ran (-k, a single cell), it skips.
    """
    if len(RAN) < len(CELLS):
        pytest.skip(f"only {len(RAN)} of {len(CELLS)} matrix cells ran")
    never = sorted(key for key in route_keys(app) - EXERCISED if key[0] != "static")
    assert not never, f"routes never exercised with a success answer: {never}"
