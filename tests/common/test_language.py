"""The UI is Chinese unless the user chooses English; the browser's language does not decide."""

import pytest

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese_even_for_an_english_browser(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录" in page


def test_explicit_english_choice_is_honoured(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert 'lang="en"' in page
