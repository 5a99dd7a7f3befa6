"""Logging in and out through the pages a team member uses."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from aftershow.orders.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_login_page_has_the_form(client: Client) -> None:
    html = client.get("/accounts/login/?next=/orders/7/").content.decode()

    assert '<form method="post" action="/accounts/login/">' in html
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert '<input type="hidden" name="next" value="/orders/7/">' in html


def test_packer_logs_in_and_lands_where_they_were_going(client: Client) -> None:
    packer = UserFactory(packer=True)

    response = client.post(
        "/accounts/login/", {"username": "pat", "password": PASSWORD, "next": "/orders/7/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/orders/7/"
    assert client.session[SESSION_KEY] == str(packer.pk)


def test_login_without_next_goes_to_the_order_list(client: Client) -> None:
    UserFactory(packer=True)

    response = client.post("/accounts/login/", {"username": "pat", "password": PASSWORD})

    assert response["Location"] == "/"


def test_wrong_password_is_refused(client: Client) -> None:
    UserFactory(packer=True)

    response = client.post("/accounts/login/", {"username": "pat", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()
    assert SESSION_KEY not in client.session


def test_outsider_cannot_log_in(client: Client) -> None:
    UserFactory(outsider=True)

    response = client.post("/accounts/login/", {"username": "oscar", "password": PASSWORD})

    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()
    assert SESSION_KEY not in client.session


def test_logged_in_user_visiting_login_goes_to_the_list(client: Client) -> None:
    client.force_login(UserFactory(owner=True))

    response = client.get("/accounts/login/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_logout_ends_the_session(client: Client) -> None:
    client.force_login(UserFactory(owner=True))

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


def test_login_page_in_chinese(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})

    html = client.get("/accounts/login/").content.decode()

    assert "<h1>登录</h1>" in html
    assert '<button type="submit" name="language" value="zh-hans" lang="zh-hans"' in html
