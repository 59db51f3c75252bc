"""ladder_steps.picture: Rapport's own picture keys instead of emoji (issue 15)

Revision ID: c4d5a1e0b15a
Revises: 7a1e18c0de55
Create Date: 2026-12-04 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c4d5a1e0b15a"
down_revision = "7a1e18c0de55"
branch_labels = None
depends_on = None

# Each emoji the step form offered before, and the drawing that shows the same situation.
EMOJI_TO_KEY = {
    "🐶": "dog",
    "🐕": "dog",
    "🦮": "dog",
    "🏫": "classroom",
    "👋": "goodbye",
    "🛏️": "bed",
    "🌙": "dark-room",
    "🏞️": "park",
    "🛝": "park",
    "🙋": "hand-up",
    "🗣️": "talking",
    "🍽️": "new-food",
    "👫": "talking",
    "📞": "phone-call",
    "🚪": "front-door",
    "🚗": "car",
    "🎒": "school-gate",
    "🧸": "teddy",
    "📚": "picture-book",
    "⚽": "park",
    "🏊": "swimming",
    "🎤": "talk-to-group",
    "🛒": "shop-counter",
    "🧁": "birthday-party",
}
# Going back: one emoji per drawing (drawings the emoji list never had go back to no picture).
KEY_TO_EMOJI = {
    "dog": "🐶",
    "classroom": "🏫",
    "goodbye": "👋",
    "bed": "🛏️",
    "dark-room": "🌙",
    "park": "🏞️",
    "hand-up": "🙋",
    "talking": "🗣️",
    "new-food": "🍽️",
    "phone-call": "📞",
    "front-door": "🚪",
    "car": "🚗",
    "school-gate": "🎒",
    "teddy": "🧸",
    "picture-book": "📚",
    "swimming": "🏊",
    "talk-to-group": "🎤",
    "shop-counter": "🛒",
    "birthday-party": "🧁",
}

steps = sa.table("ladder_steps", sa.column("picture", sa.String(16)))


def _remap(mapping: dict[str, str]) -> None:
    for old, new in mapping.items():
        op.execute(steps.update().where(steps.c.picture == old).values(picture=new))
    op.execute(
        steps.update().where(steps.c.picture.not_in(list(mapping.values()) + [""])).values(picture="")
    )


def upgrade() -> None:
    _remap(EMOJI_TO_KEY)


def downgrade() -> None:
    _remap(KEY_TO_EMOJI)
