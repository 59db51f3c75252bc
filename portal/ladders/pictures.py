"""Rapport's own pictures (issue 15): one key per drawing in static/pictures/, with its words.

Steps store the key (`ladder_steps.picture`); the therapist picks from SITUATIONS. Every picture
has a text alternative in each language, and the words beside a picture carry the same meaning,
so nothing depends on colour or on an emoji font.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flask import current_app, has_request_context, request, url_for
from flask_babel import LazyString
from markupsafe import Markup, escape

from portal.i18n import lazy_gettext as _l
from portal.web.static_files import static_version


@dataclass(frozen=True)
class Picture:
    key: str
    alt: LazyString

    @property
    def filename(self) -> str:
        return f"pictures/{self.key}.svg"


def _registry(*pictures: Picture) -> dict[str, Picture]:
    return {p.key: p for p in pictures}


# Situations a therapist can give a ladder step, in the order the step form shows them.
SITUATIONS = _registry(
    Picture("dog", _l("A dog")),
    Picture("insect", _l("A beetle")),
    Picture("school-gate", _l("The school gate")),
    Picture("classroom", _l("A classroom")),
    Picture("hand-up", _l("A hand up in class")),
    Picture("talking", _l("Talking with someone")),
    Picture("talk-to-group", _l("Talking to a group")),
    Picture("goodbye", _l("Waving goodbye")),
    Picture("front-door", _l("The front door")),
    Picture("bed", _l("A bed at night")),
    Picture("dark-room", _l("A dark room")),
    Picture("sleepover", _l("A sleepover")),
    Picture("teddy", _l("Playing with a teddy")),
    Picture("phone-call", _l("A phone call")),
    Picture("birthday-party", _l("A birthday party")),
    Picture("shop-counter", _l("A shop counter")),
    Picture("new-food", _l("Trying a new food")),
    Picture("doctor", _l("The doctor")),
    Picture("lift", _l("A lift")),
    Picture("swimming", _l("Swimming")),
    Picture("car", _l("A car ride")),
    Picture("park", _l("The park")),
    Picture("picture-book", _l("A picture book")),
    Picture("video", _l("A video")),
)

# Pictures of the child's screens; their words are always printed beside them too.
SCREEN = _registry(
    Picture("star", _l("A star")),
    Picture("jar", _l("A jar")),
    Picture("token", _l("A token")),
    Picture("ladder", _l("A ladder")),
    Picture("thermometer", _l("A fear thermometer")),
    Picture("do-it", _l("Someone doing it")),
    Picture("did-all", _l("A tick: I did it all")),
    Picture("did-some", _l("Half a circle: I did some")),
    Picture("stopped", _l("A raised hand: I stopped")),
    Picture("speaker", _l("A speaker")),
    Picture("on-device", _l("A star kept in the phone until it is online")),
    Picture("lock", _l("A padlock: later")),
    Picture("trophy", _l("A trophy: done")),
    Picture("waiting", _l("An hourglass: waiting")),
    Picture("home", _l("A house")),
    Picture("plan", _l("A map")),
    Picture("face-calm", _l("A smiling face")),
    Picture("face-little", _l("A face with a small smile")),
    Picture("face-bit", _l("A face with a straight mouth")),
    Picture("face-worried", _l("A worried face")),
    Picture("face-scared", _l("A scared face with an open mouth")),
)

ALL = SITUATIONS | SCREEN


def picture_alt(key: str) -> str:
    """The words for a picture key, in the reader's language ("" for no picture)."""
    picture = ALL.get(key)
    return str(picture.alt) if picture else ""


def has_picture(key: str) -> bool:
    return key in ALL


def picture(key: str | None, alt: str = "", cls: str = "", size: int = 64) -> Markup:
    """A picture for the templates (a global): `alt=''` marks it as decoration when words beside
    it say the same; pass the words when the picture stands alone. An unknown key (an old emoji
    value) shows nothing rather than a broken image. A function, not a Jinja macro (issue 17: a
    child's ladder draws fifteen and a macro call costs more than the <img> it writes)."""
    if key not in ALL:
        return escape("")
    version = static_version(
        current_app.static_folder or "", f"pictures/{key}.svg", watch=current_app.debug
    )
    if type(alt) is str and type(cls) is str and type(size) is int:
        mounted_at = request.script_root if has_request_context() else ""
        return _img(mounted_at, version, key, alt, cls, size)
    return _img.__wrapped__("", version, key, alt, cls, size)


@lru_cache(maxsize=4096)
def _img(_mounted_at: str, _version: str | None, key: str, alt: str, cls: str, size: int) -> Markup:
    """The <img> tag, written once per process for each picture, words, class and size, the path
    the app is mounted at (its URL starts with it) and the file's version (which its URL names:
    an edited picture gets a new tag, as every static link does, portal/web/static_files.py)."""
    src = escape(url_for("static", filename=f"pictures/{key}.svg"))
    cls, alt, size_ = escape(cls), escape(alt), escape(size)
    tag = f'<img class="pic-img {cls}" src="{src}" alt="{alt}" width="{size_}" height="{size_}">'
    # XS-02 allowlist: every value in the tag above is escaped.
    return Markup(tag)  # noqa: S704  # nosec B704


def step_picture(key: str | None, cls: str = "", size: int = 48) -> Markup:
    """A ladder step's picture beside its title (decoration: the title says it)."""
    return picture(key, "", cls, size)
