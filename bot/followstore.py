"""Followed topics and sent alerts in the database (`bot.records.Follow`, `Alert`). Every
function blocks: call it via asyncio.to_thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.records import Alert, Follow


@dataclass(frozen=True)
class Followed:
    """One follow: `number` is its place in the user's /following list (1-based)."""

    id: int
    chat_id: int
    topic: str
    number: int = 0


def follow(db: sessionmaker[Session], chat_id: int, topic: str) -> bool:
    """Follow `topic` from `chat_id`; False when it is already followed."""
    with db() as session:
        session.add(Follow(chat_id=chat_id, topic=topic))
        try:
            session.commit()
        except IntegrityError:
            return False
    return True


def following(db: sessionmaker[Session], chat_id: int) -> list[Followed]:
    """The chat's topics, oldest first, numbered as /following shows them."""
    with db() as session:
        rows = session.execute(
            select(Follow.id, Follow.topic).where(Follow.chat_id == chat_id).order_by(Follow.id)
        ).all()
    return [Followed(fid, chat_id, topic, n) for n, (fid, topic) in enumerate(rows, 1)]


def unfollow(db: sessionmaker[Session], chat_id: int, follow_id: int) -> str | None:
    """Stop one follow of this chat (a forged id of another chat's does nothing); its topic,
    or None when there was none."""
    with db() as session:
        found = session.get(Follow, follow_id)
        if found is None or found.chat_id != chat_id:
            return None
        topic = found.topic
        session.delete(found)
        session.commit()
    return topic


def forget_chat(db: sessionmaker[Session], chat_id: int) -> int:
    """Drop every follow of a chat that can no longer be written to (blocked the bot)."""
    with db() as session:
        removed = session.execute(delete(Follow).where(Follow.chat_id == chat_id)).rowcount  # type: ignore[attr-defined]
        session.commit()
    return int(removed or 0)


def all_follows(db: sessionmaker[Session]) -> list[Followed]:
    with db() as session:
        rows = session.execute(select(Follow.id, Follow.chat_id, Follow.topic)).all()
    return [Followed(fid, chat, topic) for fid, chat, topic in rows]


def claim_alert(
    db: sessionmaker[Session],
    followed: Followed,
    article_id: int,
    now: datetime,
    per_day: int,
) -> bool:
    """Take the right to send `article_id` to the follower: False when it was sent already (by
    any process: the pair is unique) or the chat had `per_day` alerts in the last 24 hours."""
    with db() as session:
        recent = session.scalar(
            select(func.count(Alert.id))
            .where(Alert.chat_id == followed.chat_id)
            .where(Alert.created_at > now - timedelta(days=1))
        )
        if (recent or 0) >= per_day:
            return False
        session.add(
            Alert(
                chat_id=followed.chat_id,
                article_id=article_id,
                follow_id=followed.id,
                created_at=now,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            return False
    return True
