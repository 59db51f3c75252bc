"""Every route of a child's record declares what it audits (`@audited`), so renaming a view or a
path argument never changes or drops an audit row; the sign-in and invitation views record their
own events instead (LG-01, LG-02)."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.audit_trail import CASE_OF, audited

SELF_RECORDING = ("auth", "invitations", "static")


def test_every_traced_route_declares_its_audit(app: Flask) -> None:
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] not in SELF_RECORDING
        and getattr(app.view_functions[rule.endpoint], "audit", None) is None
    ]
    assert undeclared == []


def test_a_declared_object_is_a_path_argument_of_its_route(app: Flask) -> None:
    wrong = []
    for rule in app.url_map.iter_rules():
        declared = getattr(app.view_functions[rule.endpoint], "audit", None)
        if declared is None or declared.id_arg is None:
            continue
        if declared.id_arg not in rule.arguments or declared.object_type not in CASE_OF:
            wrong.append(rule.endpoint)
    assert wrong == []


def test_self_recording_views_declare_nothing(app: Flask) -> None:
    declared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in SELF_RECORDING
        and getattr(app.view_functions[rule.endpoint], "audit", None) is not None
    ]
    assert declared == []


def test_a_read_is_read_unless_it_prints_or_exports() -> None:
    def view() -> None: ...

    update = audited("update", goal="goal_id")(view).audit  # type: ignore[attr-defined]
    assert (update.action_for("GET"), update.action_for("POST")) == ("read", "update")
    printing = audited("print", plan="plan_id")(view).audit  # type: ignore[attr-defined]
    assert printing.action_for("GET") == "print"


def test_an_unknown_action_or_object_is_refused_at_import() -> None:
    with pytest.raises(ValueError, match="action"):
        audited("browse")
    with pytest.raises(ValueError, match="object"):
        audited("read", spaceship="ship_id")
