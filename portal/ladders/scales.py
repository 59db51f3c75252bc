"""Fear scales (DESIGN §4): what each age band sees, and the canonical 0-100 stored form."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from portal.i18n import lazy_gettext as _l
from portal.models import AgeBand
from portal.models.ladders import FearScale


class ScaleError(ValueError):
    """A rating outside its scale."""


@dataclass(frozen=True)
class ScalePoint:
    value: int
    face: str  # a face drawing in static/pictures/ (portal/ladders/pictures.py), or ""
    words: str


# Our own wording. The faces' shapes (mouth, brows) carry the meaning for children who do not
# read yet; the words are always printed beside them, so nothing rests on colour.
FACES_3 = (
    ScalePoint(0, "face-calm", _l("Not scared")),
    ScalePoint(1, "face-bit", _l("A bit scared")),
    ScalePoint(2, "face-scared", _l("Very scared")),
)
FACES_5 = (
    ScalePoint(0, "face-calm", _l("Calm")),
    ScalePoint(1, "face-little", _l("A little worried")),
    ScalePoint(2, "face-bit", _l("Worried")),
    ScalePoint(3, "face-worried", _l("Very worried")),
    ScalePoint(4, "face-scared", _l("Super scared")),
)


def _thermometer_face(value: int) -> str:
    for top, face in ((1, "face-calm"), (3, "face-little"), (5, "face-bit"), (7, "face-worried")):
        if value <= top:
            return face
    return "face-scared"


THERMOMETER = tuple(
    ScalePoint(
        value,
        _thermometer_face(value),
        _l("Calm") if value == 0 else _l("Most scared ever") if value == 10 else "",
    )
    for value in range(10, -1, -1)
)

POINTS = {
    FearScale.FACES_3: FACES_3,
    FearScale.FACES_5: FACES_5,
    FearScale.THERMOMETER_10: THERMOMETER,
    FearScale.NUMBER_10: tuple(ScalePoint(v, "", str(v)) for v in range(11)),
}


def scale_for(band: AgeBand) -> FearScale:
    return {
        AgeBand.YOUNG: FearScale.FACES_3,
        AgeBand.CHILD: FearScale.THERMOMETER_10,
        AgeBand.TEEN: FearScale.NUMBER_10,
    }[band]


def to_canonical(scale: FearScale, raw: int) -> int:
    """0-100, rounded to a whole number: faces-3 gives 0/50/100, faces-5 0/25/50/75/100,
    0-10 scales ×10."""
    if not 0 <= raw <= scale.top:
        raise ScaleError(_("Choose a rating from 0 to %(top)s.", top=scale.top))
    return round(raw * 100 / scale.top)


def tenths(score: int | None) -> str:
    """A canonical score as people read it: out of 10, without a trailing .0."""
    if score is None:
        return "–"
    value = score / 10
    return f"{value:g}"
