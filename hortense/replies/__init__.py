"""French answers composed from domain views: plain data (text, buttons, image) that any channel can render."""
from hortense.replies.common import Button, Reply  # noqa: F401
