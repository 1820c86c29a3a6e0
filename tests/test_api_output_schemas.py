"""The output schemas are the whitelist of what leaves the server (api/jsonrender.py): a key a
handler builds that its schema does not name is never sent, and a value of the wrong type is a
logged server error, never a response."""

import json

import pytest

from api import endpoints
from tests.api_support import api_client_with_token, bearer
from tests.factories import DecisionFactory, FacilityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(db):
    facility = FacilityFactory(facility_id="K0880-101", name="Schemagården")
    DecisionFactory(facility=facility, diarienummer="3.2.2-101/2025")
    return facility


@pytest.fixture
def token(db):
    return api_client_with_token("0880")[1]


def _leaking(original):
    def public_facility(facility):
        return {**original(facility), "personnummer": "19121212-1212", "internal_note": "x"}

    return public_facility


@pytest.mark.parametrize("url", ["/api/v1/facilities", "/api/v1/facilities/K0880-101"])
def test_a_key_the_schema_does_not_name__never_sent(client, home, token, monkeypatch, url):
    monkeypatch.setattr(endpoints, "_public_facility", _leaking(endpoints._public_facility))

    response = client.get(url, **bearer(token))

    assert response.status_code == 200
    text = response.content.decode()
    assert "Schemagården" in text
    assert "19121212-1212" not in text and "internal_note" not in text


def test_a_value_of_the_wrong_type__a_server_error_not_a_response(client, home, token, monkeypatch):
    original = endpoints._public_facility

    def wrong(facility):
        return {**original(facility), "places": "sex platser"}

    monkeypatch.setattr(endpoints, "_public_facility", wrong)

    response = client.get("/api/v1/facilities", **bearer(token))

    assert response.status_code == 500
    problem = json.loads(response.content)
    assert problem["code"] == "serverfel"
    assert "sex platser" not in response.content.decode()
