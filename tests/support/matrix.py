"""The access matrix's table (AZ-01, AZ-02): every route x every kind of person, with the exact
answer each actor gets, the valid form for each POST, and the helpers that check an answer.
The tests that walk it are tests/test_access_matrix.py; the audit and fuzz tests reuse the table.

A new route needs a row (and a success for someone). If its URL has a new argument, say which
object of the scene fills it (tests/support/scene.py COMMON_ARGUMENTS or URL_ARGUMENTS) and add
that object to the scene; if it takes a POST, put a form that succeeds for the allowed actor in
FORMS.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.db import utcnow
from portal.feedback import services as feedback
from portal.models import PlanVersion, User
from portal.plans import services as plans
from tests.support.browser import Browser
from tests.support.people import FAMILY_OF, SIGN_IN, enter_child_mode
from tests.support.rows import PASSWORD, PIN, born_years_ago
from tests.support.scene import CLINICAL_SENTINEL, Scene
from tests.support.session import services_on
from tests.support.totp import authenticator_code

NEW_PASSWORD = "a long walk on the beach 2026"
# The table's columns. G3 is case1's grandmother, a current guardian WITHOUT consent authority:
# she is not a column of her own but gets G1's answer everywhere except WITHOUT_CONSENT below.
COLUMNS = ("anon", "C1", "G1", "G2", "T1", "T2", "A")
ACTORS = (*COLUMNS, "G3")
SIGNED_IN_ACTORS = frozenset(ACTORS) - {"anon"}


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
S_NOTE = Expect(303, "family-note")
S_DAT = Expect(303, "family-data")
S_DRQ = Expect(303, "/admin/data-requests")
R_LOG = Expect(302, "/login")  # a public form that ends on the sign-in page (reset, forgot)
S_BAK = Expect(303, "/account/password")  # back to the page the language was picked on
S_EML = Expect(302, "/account/email")  # the link is on its way to the new address
S_CAL = Expect(303, "/account/calendar")  # the calendar link is stopped, reminders saved


# --- Who may use a route (the classification) -----------------------------------------------------


@dataclass(frozen=True)
class Access:
    label: str
    actors: frozenset[str]  # the actors that may get a success answer, given case1's ids


def _access(label: str, *actors: str, consent: bool = False) -> Access:
    """G3 may do what G1 may, unless the class needs consent authority."""
    with_g3 = {"G3"} if "G1" in actors and not consent else set()
    return Access(label, frozenset(actors) | with_g3)


PUBLIC = _access("public", *ACTORS)
SIGNED = _access("auth: anyone signed in", *SIGNED_IN_ACTORS)
THERAP = _access("role:therapist", "T1", "T2", "A")
ADMIN = _access("role:admin (a therapist with is_admin)", "A")
ONCASE = _access("role:therapist on the case", "T1")
GUARD = _access("role:guardian", "G1", "G2")
FAMILY = _access("role:guardian linked to the case", "G1")
MAKERS = _access(
    "role:therapist on the case, or guardian who can consent", "T1", "G1", consent=True
)
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
        answers = dict(zip(COLUMNS, cells, strict=True))
        answers["G3"] = WITHOUT_CONSENT.get((endpoint, method, state), answers["G1"])
        return Row(endpoint, method, state, access, answers)

    return make


GET, POST = "GET", "POST"
# What a guardian without consent authority (G3) is refused although G1 may do it.
WITHOUT_CONSENT: dict[tuple[str, str, str], Expect] = {
    ("cases.child_account", GET, BEFORE_CHILD_LOGIN): NF,
    ("cases.child_account", POST, BEFORE_CHILD_LOGIN): NF,
    ("plans.respond", POST, PLAN_PROPOSED): NF,
    ("rights.request_deletion", POST, NORMAL): NF,
    ("rights.close_child_account", POST, NORMAL): NF,
}
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
    row("auth.change_email",         POST, GROWN,  IN,    NF,    S_EML, S_EML, S_EML, S_EML, S_EML),
    # Issue 13: the new address's link, and the old address's cancel link (only with the token).
    row("auth.confirm_email",        GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
    row("auth.confirm_email",        POST, PUBLIC, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG),
    row("auth.cancel_email_change",  GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
    row("auth.cancel_email_change",  POST, PUBLIC, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG, R_LOG),
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
    row("family.consent_page",       GET,  FAMILY, IN,    NF,    OK,    NF,    NF,    NF,    NF),
    # Agreeing to the terms again (asked at sign-in after withdrawing them): any guardian.
    row("family.agree_terms",        GET,  GUARD,  IN,    NF,    OK,    OK,    NF,    NF,    NF),
    row("family.agree_terms",        POST, GUARD,  IN,    NF,    S_FAM, S_FAM, NF,    NF,    NF),
    row("child.home",                GET,  SCREEN, IN,    OK,    NF,    NF,    NF,    NF,    NF),
    kid("child.home",                GET,  SCREEN, IN,    OK,    OK,    OK,    NF,    NF,    NF),
    row("child.care_assent",         GET,  SCREEN, IN,    OK,    NF,    NF,    NF,    NF,    NF),
    kid("child.care_assent",         GET,  SCREEN, IN,    OK,    OK,    OK,    NF,    NF,    NF),
    row("child.care_assent",         POST, SCREEN, IN,    S_ME,  NF,    NF,    NF,    NF,    NF),
    kid("child.care_assent",         POST, SCREEN, IN,    S_ME,  S_ME,  S_ME,  NF,    NF,    NF),
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
    row("feedback.family_note",       GET,  FAMILY, IN,    NF,    OK,    NF,    NF,    NF,    NF),
    row("feedback.family_note",       POST, FAMILY, IN,    NF,    S_NOTE, NF,   NF,    NF,    NF),
    row("feedback.answer_note",       POST, ONCASE, IN,    NF,    NF,    NF,    S_CFB, NF,    NF),
    row("feedback.resolve_note",      POST, ONCASE, IN,    NF,    NF,    NF,    S_CFB, NF,    NF),
    # Before the session: the therapists' page and their private agenda; no guardian, no child.
    row("feedback.before_session",    GET,  ONCASE, IN,    NF,    NF,    NF,    OK,    NF,    NF),
    row("feedback.save_agenda",       POST, ONCASE, IN,    NF,    NF,    NF,    S_BEF, NF,    NF),
    row("feedback.judge_prediction",  POST, ONCASE, IN,    NF,    NF,    NF,    S_BEF, NF,    NF),
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
    row("ladders.service_worker",    GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
    row("ladders.child_ladder",      GET,  SCREEN, IN,    OK,    NF,    NF,    NF,    NF,    NF),
    kid("ladders.child_ladder",      GET,  SCREEN, IN,    OK,    OK,    OK,    NF,    NF,    NF),
    row("ladders.practice_form",     GET,  SCREEN, IN,    OK,    NF,    NF,    NF,    NF,    NF),
    kid("ladders.practice_form",     GET,  SCREEN, IN,    OK,    OK,    NF,    NF,    NF,    NF),
    row("ladders.well_done",         GET,  SCREEN, IN,    OK,    NF,    NF,    NF,    NF,    NF),
    kid("ladders.well_done",         GET,  SCREEN, IN,    OK,    OK,    OK,    NF,    NF,    NF),
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
    # Issue 13: the accessibility statement and the site icon, for everyone.
    row("about.accessibility",       GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
    row("about.favicon",             GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
    # Issue 13: the next session for a calendar; a person's private feed (only with its token).
    row("calendar.next_session_ics", GET,  MEMBER, IN,    OK,    OK,    NF,    OK,    NF,    NF),
    row("calendar.feed_page",        GET,  GROWN,  IN,    NF,    OK,    OK,    OK,    OK,    OK),
    row("calendar.make_feed",        POST, GROWN,  IN,    NF,    OK,    OK,    OK,    OK,    OK),
    row("calendar.stop_feed",        POST, GROWN,  IN,    NF,    S_CAL, S_CAL, S_CAL, S_CAL, S_CAL),
    row("calendar.save_reminders",   POST, GROWN,  IN,    NF,    S_CAL, S_CAL, S_CAL, S_CAL, S_CAL),
    row("calendar.feed",             GET,  PUBLIC, OK,    OK,    OK,    OK,    OK,    OK,    OK),
]
# fmt: on

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
    "calendar.save_reminders": lambda _: {"reminders": "y", "practice_hour": "18"},
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
    "child.care_assent": lambda _: {"choice": "yes"},
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
    "ladders.add_step": lambda _: {
        "title": "Wave at a dog",
        "picture": "dog",
        "fear_rating": "3.5",
    },
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
    "feedback.family_note": lambda _: {
        "idempotency_key": str(uuid.uuid4()),
        "mood": "mixed",
        "text": "Mornings are better",
    },
    "feedback.answer_note": lambda _: {"answer": "Good to hear, thank you."},
    "feedback.resolve_note": lambda _: {"note": ""},
    "feedback.save_agenda": lambda _: {"text": "Ask about bedtime first"},
    "feedback.judge_prediction": lambda _: {"came_true": "no"},
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


# --- Helpers --------------------------------------------------------------------------------------


def route_keys(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def form_for(row: Row, scene: Scene) -> dict[str, str]:
    make = FORMS.get(row.endpoint)
    return make(scene) if make else {}


def enter_state(state: str, actor: str, browser: Browser, scene: Scene, app: Flask) -> None:
    world, db_session = scene.world, scene.db_session
    if state == IN_CHILD_MODE and actor in ("G1", "G2", "G3"):
        own_case = world.case2 if actor == "G2" else world.case1
        enter_child_mode(browser, own_case.id)
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
