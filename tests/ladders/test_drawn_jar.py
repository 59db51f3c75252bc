"""The jar's drawing, kept per process (portal/ladders/young_views.drawn_jar), is the drawing the
template's macro makes, for every number of stars, new stars, kind and class."""

from __future__ import annotations

from flask import Flask

from portal.ladders.young_views import JAR_SIZE, drawn_jar

KINDS = ((True, "small-jar"), (False, "small-jar"), (True, "celebrate-jar"))


def test_the_kept_drawing_is_the_macros(app: Flask) -> None:
    with app.app_context():
        template = app.jinja_env.get_template("ladders/_jar.html")
        macro = template.module.jar_drawing  # type: ignore[attr-defined]
        for filled in (0, 1, 7, JAR_SIZE):
            for new in {0, min(1, filled), filled}:
                for stars, cls in KINDS:
                    expected = macro(filled, new, JAR_SIZE, stars, cls)
                    assert drawn_jar(filled, new, JAR_SIZE, stars, cls) == expected
                    assert drawn_jar(filled, new, JAR_SIZE, stars, cls) == expected  # kept
        assert 'class="jar-item-new jar-item-new-1"' in str(drawn_jar(3, 1, JAR_SIZE, True, ""))
