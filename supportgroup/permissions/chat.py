"""Chat rules inside a meeting one has joined: deleting a message, whispering."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models import Meeting, Membership, Message
from .core import Denied
from .live import require_not_removed


def require_may_delete_message(message: Message, by: Membership) -> None:
    """Authors delete their own messages; moderators any."""
    if not by.is_moderator and message.author_membership_id != by.id:
        raise Denied("not_allowed", _l("You can only delete your own messages."))


def require_may_whisper(meeting: Meeting, author: Membership, recipient: Membership | None) -> None:
    """A moderator whispers to one participant (never to another peer expert: that is the backchannel); a
    participant whispers to the meeting's moderators (`recipient` None), unless removed from the meeting."""
    if author.is_moderator:
        if recipient is not None and recipient.is_moderator:
            raise Denied("not_allowed", _l("Use the backchannel to write to other peer experts."))
    else:
        require_not_removed(meeting, author)
