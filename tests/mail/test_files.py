"""Development: with a file:// mail URL each message is an .eml file, and a server started
with background delivery (as `coop serve` is in development) writes them by itself."""

from __future__ import annotations

import time
from email import message_from_bytes, policy
from pathlib import Path

from fastapi.testclient import TestClient

from coop.app import create_app
from coop.db import Database
from coop.mail.worker import deliver_due
from coop.settings import MailSettings, Settings
from tests import factories as f
from tests.factories.mail import enqueue


def test_each_message_is_an_eml_file_and_a_repeat_replaces_it(database: Database, tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    mail = MailSettings(url=folder.as_uri())
    enqueue(database, 2)
    assert deliver_due(database, mail).sent == 2
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2 and not list(folder.glob("*.part"))
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert files[0].name == f"{str(message['Message-ID']).strip('<>').partition('@')[0]}.eml"


def test_the_development_server_delivers_in_the_background(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    background = settings.model_copy(
        update={"mail": MailSettings(url=folder.as_uri(), background=True, poll_seconds=0.05)}
    )
    with TestClient(create_app(background)) as client:
        board = f.board(client, client.app.state.db)  # type: ignore[attr-defined]
        member = f.admit(client, board)["member"]
        deadline = time.monotonic() + 30
        while not list(folder.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.05)
    [written] = folder.glob("*.eml")
    assert member["email"] in written.read_text()
