"""Rapport's own pictures (issue 15): one key per drawing in static/pictures/, with its words.

Steps store the key (`ladder_steps.picture`); the therapist picks from SITUATIONS. Every picture
has a text alternative in each language, and the words beside a picture carry the same meaning,
so nothing depends on colour or on an emoji font.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString

from portal.i18n import lazy_gettext as _l


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
