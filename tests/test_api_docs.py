"""The API's documentation page (/api/v1/docs): drawn on the server from the published OpenAPI
document, every operation on it, in the language the visitor chose with the switch, while the
API's own answers still follow Accept-Language alone."""

import re

import pytest

from api.docs import prose
from api.endpoints import api

pytestmark = pytest.mark.django_db


def test_docs__every_operation_of_the_openapi_document_with_its_responses(client):
    document = api.get_openapi_schema()

    body = client.get("/api/v1/docs").content.decode()

    for path, item in document["paths"].items():
        for method, operation in item.items():
            heading = re.search(
                rf'<h4 id="{operation["operationId"]}">.*?{method.upper()}.*?{re.escape(path)}',
                body,
            )
            assert heading, f"{method.upper()} {path} is not on the page"
    assert '<li id="problem-finns-inte"><code>finns-inte</code> <strong>404</strong>' in body
    assert 'href="/api/v1/openapi.json"' in body
    assert "<script" not in body.replace('<script src="/static/portal/site.js" defer>', "")


def test_docs__in_english_when_the_visitor_chose_english(client):
    client.cookies["sprak"] = "en"

    response = client.get("/api/v1/docs")

    assert re.search(r'<html lang="en">', response.content.decode())
    assert response["Content-Language"] == "en"
    assert "Cookie" in response["Vary"]


def test_docs__swedish_by_default_whatever_the_browser_asks(client):
    response = client.get("/api/v1/docs", HTTP_ACCEPT_LANGUAGE="en")

    assert '<html lang="sv">' in response.content.decode()


def test_api__answers_still_follow_accept_language_not_the_cookie(client):
    client.cookies["sprak"] = "en"

    response = client.get("/api/v1/counties")

    assert response["Content-Language"] == "sv"


def test_docs__descriptions_markdown_shown_and_html_in_them_escaped():
    paragraphs = prose("**Nycklar.** Skicka `Authorization`.\n\n<script>alert(1)</script>")

    assert paragraphs == [
        "<strong>Nycklar.</strong> Skicka <code>Authorization</code>.",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ]
