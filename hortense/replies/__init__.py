"""French answers composed from domain views: plain data (text, buttons, image) that any channel can render.

Besides one module of wording per feature (`account`, `energy`, `billing`, `documents`, `appointments`, `general`, with
`common` for buttons and shared phrases), `formatting` writes amounts, energy, dates and identifiers the French
way (Babel) for the chat, the web pages and the documents alike, and `supplier` holds the supplier's public
contact facts quoted in answers."""

from hortense.replies.common import Button, Link, Reply  # noqa: F401
