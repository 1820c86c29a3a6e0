"""The API answers its problems in the language the client asks for with Accept-Language, Swedish
unless it asks for English; the pages do not let a browser's Accept-Language choose, only the
visitor's own choice (the `sprak` cookie). config/language.py."""

import datetime

import pytest

from register import services
from register.codes import AppealStatus, Outcome
from tests.api_support import api_client_with_token, bearer, get_json
from tests.factories import DecisionFactory, FacilityFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roomy_rate_limit")]

UNKNOWN_FACILITY = "/api/v1/facilities/FINNS-INTE"


def _problem(client, url: str, **headers) -> tuple[dict, object]:
    response = client.get(url, **headers)
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json(), response


def test_unknown_resource__accept_language_en__title_and_detail_in_english(client):
    problem, response = _problem(client, UNKNOWN_FACILITY, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert problem["title"] == "The resource does not exist"
    assert problem["detail"] == "The home is not in the register."
    assert problem["code"] == "finns-inte"  # the machine's code stays as it is
    assert response["Content-Language"] == "en"


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_ACCEPT_LANGUAGE": "sv"}, {"HTTP_ACCEPT_LANGUAGE": "fr"}],
    ids=["no header", "sv", "fr"],
)
def test_unknown_resource__no_english_asked_for__swedish(client, headers):
    problem, response = _problem(client, UNKNOWN_FACILITY, **headers)

    assert problem["title"] == "Resursen finns inte"
    assert problem["detail"] == "Verksamheten finns inte i registret."
    assert response["Content-Language"] == "sv"


def test_accept_language__first_language_the_service_has__is_chosen(client):
    problem, response = _problem(
        client, UNKNOWN_FACILITY, HTTP_ACCEPT_LANGUAGE="fr-FR, fr;q=0.9, en-GB;q=0.8, sv;q=0.5"
    )

    assert problem["title"] == "The resource does not exist"
    assert response["Content-Language"] == "en"


def test_bad_parameter__accept_language_en__each_error_in_english(client):
    problem, response = _problem(
        client,
        "/api/v1/facilities?no_serious_decision_years=tre",
        HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9",
    )

    assert response.status_code == 422
    assert problem["title"] == "Invalid parameter"
    assert problem["errors"] == [
        {"parameter": "no_serious_decision_years", "detail": "Give a whole number."}
    ]
    assert problem["detail"] == "no_serious_decision_years: Give a whole number."


def test_bad_parameter__swedish_by_default(client):
    problem, _response = _problem(client, "/api/v1/facilities?no_serious_decision_years=tre")

    assert problem["title"] == "Ogiltig parameter"
    assert problem["errors"] == [
        {"parameter": "no_serious_decision_years", "detail": "Ange ett heltal."}
    ]


def test_missing_key__accept_language_en__english(client, settings):
    settings.API_OPEN_DATA = False

    problem, response = _problem(client, "/api/v1/facilities", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 401
    assert problem["code"] == "token-saknas"
    assert problem["title"] == "API key missing"
    assert problem["detail"] == "Give an API key in the Authorization header: Bearer <key>."


def test_key_for_another_municipality__accept_language_en__names_both_in_english(client):
    _client, token = api_client_with_token("0880")

    problem, response = _problem(
        client,
        "/api/v1/municipalities/0180/access-events",
        HTTP_ACCEPT_LANGUAGE="en",
        **bearer(token),
    )

    assert response.status_code == 403
    assert problem["title"] == "Wrong municipality"
    assert (
        problem["detail"] == "The key is for municipality 0880 and cannot read municipality 0180."
    )


@pytest.mark.parametrize(
    ("appeal_status", "swedish", "english"),
    [
        (AppealStatus.OVERKLAGAT, "Föreläggande (överklagat)", "Injunction (appealed)"),
        (
            AppealStatus.UPPHAVT,
            "Föreläggande – upphävt av domstol",
            "Injunction – overturned by a court",
        ),
    ],
)
def test_marking_of_an_appealed_decision__in_the_language_asked_for(
    client, appeal_status, swedish, english
):
    home = FacilityFactory(facility_id="K0880-001")
    decision = DecisionFactory(
        facility=home, decision_date=datetime.date(2025, 2, 1), outcome=Outcome.FORELAGGANDE
    )
    decision.appeal_status = appeal_status
    services.decision_save(decision=decision)

    def label(**headers) -> str:
        return get_json(client, "/api/v1/facilities/K0880-001", **headers)["decisions"][0][
            "marking"
        ]["label"]

    assert label() == swedish
    assert label(HTTP_ACCEPT_LANGUAGE="en") == english


@pytest.mark.parametrize("language", ["sv", "en"])
def test_api_answer__says_its_language_and_varies_by_accept_language(client, language):
    response = client.get(UNKNOWN_FACILITY, HTTP_ACCEPT_LANGUAGE=language)

    assert response["Content-Language"] == language
    assert "accept-language" in response["Vary"].lower()


def test_api_answer__the_sprak_cookie_does_not_choose(client):
    client.cookies["sprak"] = "en"

    problem, response = _problem(client, UNKNOWN_FACILITY)

    assert problem["title"] == "Resursen finns inte"
    assert response["Content-Language"] == "sv"


def test_page__accept_language_en__still_swedish(client):
    response = client.get("/oppna-data/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="sv">' in page
    assert "<h1>Öppna data</h1>" in page
    assert response["Content-Language"] == "sv"
    assert "accept-language" not in response["Vary"].lower()


def test_page__sprak_cookie_en__english(client):
    client.cookies["sprak"] = "en"

    response = client.get("/oppna-data/", HTTP_ACCEPT_LANGUAGE="sv")

    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "<h1>Open data</h1>" in page
    assert response["Content-Language"] == "en"
