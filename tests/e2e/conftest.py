"""One real stack (action server + Rasa server with the trained model) for the whole e2e session."""
from __future__ import annotations

import pytest

from hortense.advisors import seed_advisors
from hortense.db.migrate import upgrade
from hortense.db.seed import seed_demo
from hortense.db.session import reset_engines, session_scope
from tests.e2e.servers import Stack, start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    workdir = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{workdir / 'hortense.db'}"
    upgrade(url)
    with session_scope(url) as session:
        seed_demo(session)
        seed_advisors(session)
    reset_engines()
    running = start_stack(workdir, url)
    yield running
    running.stop()


@pytest.fixture()
def db(stack):
    """A session on the stack's database, to compute the values the bot must give."""
    with session_scope(stack.database_url) as session:
        yield session
