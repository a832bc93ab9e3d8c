"""The rasa-webchat bundle is served without its Google Fonts import: the pages make no third-party request."""
from __future__ import annotations

import pytest

from tests.unit.test_web_documents import WebClient

BUNDLE = (b'!function(){(t=e.exports=n(6)(!1)).push([e.i,"@import url(https://fonts.googleapis.com/css?family='
          b'Inter:400,500,700&display=swap);",""]),t.push([e.i,".rw-launcher{display:flex}",""]);'
          b'var s="\xc3\x89crivez";}();')


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    from web import app as web_app

    path = tmp_path / "index.js"
    path.write_bytes(BUNDLE)
    monkeypatch.setattr(web_app, "WEBCHAT_BUNDLE", path)
    web_app.webchat_bundle_bytes.cache_clear()
    yield path
    web_app.webchat_bundle_bytes.cache_clear()


def test_the_widget_bundle_is_served_without_the_google_fonts_import(bundle):
    from web.app import create_app

    served = WebClient(create_app()).get("/vendor/rasa-webchat.js")
    assert served.status == 200
    assert served.content_type.startswith("application/javascript")
    assert b"googleapis" not in served.body and b"@import" not in served.body
    # The rest of the bundle is untouched, byte for byte.
    assert served.body == BUNDLE.replace(
        b"@import url(https://fonts.googleapis.com/css?family=Inter:400,500,700&display=swap);", b"")


def test_a_new_version_of_the_bundle_is_served_at_once(bundle):
    from web.app import create_app

    client = WebClient(create_app())
    assert b".rw-launcher" in client.get("/vendor/rasa-webchat.js").body
    bundle.write_bytes(b"console.log('v2');")
    assert client.get("/vendor/rasa-webchat.js").body == b"console.log('v2');"
