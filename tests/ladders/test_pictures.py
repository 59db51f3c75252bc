"""Rapport's own pictures (issue 15): every key has a drawing, every drawing words in both
languages, the step form offers them, and nothing rests on an emoji font."""

from __future__ import annotations

from pathlib import Path
from xml.dom import minidom

from flask import Flask, url_for
from flask_babel import force_locale

from portal.ladders import pictures
from portal.ladders.forms import PICTURE_CHOICES
from portal.ladders.scales import POINTS
from portal.models.ladders import FearScale
from portal.web.static_files import static_version

STATIC = Path(__file__).resolve().parents[2] / "static" / "pictures"


def test_every_picture_key_has_a_drawing_and_every_drawing_a_key() -> None:
    drawn = {p.stem for p in STATIC.glob("*.svg")}
    assert drawn == set(pictures.ALL)
    for path in STATIC.glob("*.svg"):
        svg = minidom.parse(str(path)).documentElement  # noqa: S318 - our own files in the repo
        assert svg.tagName == "svg" and svg.getAttribute("viewBox") == "0 0 64 64", path.name
        assert "<script" not in path.read_text() and "href=" not in path.read_text()


def test_there_are_about_twenty_situations_for_steps_with_words_in_both_languages(
    app: Flask,
) -> None:
    assert len(pictures.SITUATIONS) >= 20
    for needed in ("dog", "school-gate", "bed", "front-door", "phone-call", "birthday-party",
                   "shop-counter", "hand-up", "swimming", "doctor", "lift", "dark-room",
                   "insect", "new-food", "goodbye", "sleepover"):  # fmt: skip
        assert needed in pictures.SITUATIONS
    with app.test_request_context():
        with force_locale("en"):
            english = {key: pictures.picture_alt(key) for key in pictures.ALL}
        with force_locale("es"):
            spanish = {key: pictures.picture_alt(key) for key in pictures.ALL}
    assert all(english.values()) and all(spanish.values())
    assert all(english[k] != spanish[k] for k in pictures.ALL), "an untranslated alt text"
    assert english["dog"] == "A dog" and spanish["dog"] == "Un perro"


def test_the_step_form_picks_from_the_pictures_and_the_faces_are_drawings() -> None:
    assert [c.value for c in PICTURE_CHOICES] == ["", *pictures.SITUATIONS]
    for scale in (FearScale.FACES_3, FearScale.FACES_5, FearScale.THERMOMETER_10):
        assert all(pictures.has_picture(point.face) for point in POINTS[scale])
    assert not pictures.has_picture("🐶")  # an old emoji value draws nothing


def test_a_picture_is_the_img_the_templates_wrote_escaped_and_nothing_for_an_unknown_key(
    app: Flask,
) -> None:
    """`picture` and `step_picture` are template globals (issue 17: they were Jinja macros); each
    writes what the macro wrote, for a request mounted anywhere."""
    with app.test_request_context():
        page = app.jinja_env.from_string(
            "{{ picture('dog') }}|{{ picture('lock', 'A <lock>', 'a\"b', 24) }}|"
            "{{ step_picture('bed', 'inline-pic', 24) }}|{{ picture('🐶') }}|{{ picture(None) }}|"
            "{{ picture('star', alt) }}"
        ).render(alt=pictures.SCREEN["star"].alt)
    folder = app.static_folder
    assert folder
    v = {key: static_version(folder, f"pictures/{key}.svg") for key in ("dog", "lock", "bed")}
    v["star"] = static_version(folder, "pictures/star.svg")
    assert page.split("|") == [
        f'<img class="pic-img " src="/static/pictures/dog.svg?v={v["dog"]}" alt="" width="64"'
        ' height="64">',
        f'<img class="pic-img a&#34;b" src="/static/pictures/lock.svg?v={v["lock"]}"'
        ' alt="A &lt;lock&gt;" width="24" height="24">',
        f'<img class="pic-img inline-pic" src="/static/pictures/bed.svg?v={v["bed"]}" alt=""'
        ' width="24" height="24">',
        "",
        "",
        f'<img class="pic-img " src="/static/pictures/star.svg?v={v["star"]}" alt="A star"'
        ' width="64" height="64">',
    ]
    dog = f"/rapport/static/pictures/dog.svg?v={v['dog']}"
    with app.test_request_context("/", base_url="http://localhost/rapport/"):
        assert url_for("static", filename="pictures/dog.svg") == dog
        assert f'src="{dog}"' in pictures.picture("dog")
