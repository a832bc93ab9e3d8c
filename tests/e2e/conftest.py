"""One real stack (action server + Rasa server with the trained model) for the whole e2e session."""
from __future__ import annotations

import pytest

from hortense.db.session import session_scope
from tests.e2e.servers import Stack, start_seeded_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    running = start_seeded_stack(tmp_path_factory.mktemp("e2e"))
    yield running
    running.stop()


@pytest.fixture()
def db(stack):
    """A session on the stack's database, to compute the values the bot must give."""
    with session_scope(stack.database_url) as session:
        yield session


@pytest.fixture(autouse=True)
def fresh_conversations(request):
    """Every test on the shared stack starts from new conversations, whatever ran before it: Rasa's trackers
    (slots such as `selected_contract` or `awaiting`, a form in progress) live in the stack's tracker store."""
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").forget_conversations()
