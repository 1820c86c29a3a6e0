"""Helpers for the API tests: clients with keys, and a municipal system that follows the changes
feed into a mirror of its own."""

import json
from urllib.parse import urlencode

from access.roles import Role
from api import services
from register.models import Municipality
from tests.factories import make_user


def api_client_with_token(municipality: str = "0880", *, name: str = "Ärendesystemet"):
    """A registered API client of ``municipality`` and its key, issued by an IVO administrator."""
    administrator = make_user(Role.IVO_ADMIN)
    client = services.api_client_create(
        name=name, municipality=Municipality.objects.get(code=municipality), actor=administrator
    )
    _issued, token = services.api_token_issue(client=client, actor=administrator)
    return client, token


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def get_json(http, url: str, **headers):
    response = http.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code, body(response)[:500])
    return json.loads(body(response))


def all_pages(http, path: str, params: dict | None = None, **headers) -> list[dict]:
    items, offset = [], 0
    while True:
        query = urlencode({**(params or {}), "limit": 1000, "offset": offset}, doseq=True)
        page = get_json(http, f"{path}?{query}", **headers)
        items += page["items"]
        offset += 1000
        if offset >= page["total"]:
            return items


ALL_STATUSES = {"status": ["aktiv", "nedlagd", "aterkallad", "forbud", "tillfalligt_forbud"]}


class Mirror:
    """What a municipal system keeps: each resource as the API last gave it, kept current by the
    changes feed alone."""

    def __init__(self, http, **headers):
        self.http, self.headers = http, headers
        self.cursor = ""
        self.resources: dict[tuple[str, str], dict] = {}
        self.seen: list[str] = []
        self.changes: list[dict] = []

    def poll(self) -> list[dict]:
        """Follows the feed to its end; returns the changes it read."""
        read = []
        while True:
            page = get_json(
                self.http, f"/api/v1/changes?since={self.cursor}&limit=50", **self.headers
            )
            for change in page["items"]:
                self.seen.append(change["cursor"])
                self._apply(change)
            read += page["items"]
            self.changes += page["items"]
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return read

    def poll_until(self, condition, *, seconds: float = 60) -> None:
        """Polls until ``condition(resources)`` holds. On PostgreSQL the feed lists only what
        every writing transaction of the cluster that started earlier has finished with; another
        process's open transaction (another test suite on the same server) holds it back."""
        import time

        deadline = time.monotonic() + seconds
        while True:
            self.poll()
            if condition(self.resources) or time.monotonic() > deadline:
                return
            time.sleep(0.2)

    def _apply(self, change: dict) -> None:
        key = (change["resource"], change["resource_id"])
        response = self.http.get(change["url"], **self.headers)
        if change["resource"] in ("decision", "inspection"):
            items = json.loads(body(response))["items"]
            if items:
                self.resources[key] = items[0]
            else:
                self.resources.pop(key, None)
        elif response.status_code == 404:
            self.resources.pop(key, None)
        else:
            assert response.status_code == 200, (change, response.status_code)
            self.resources[key] = json.loads(body(response))


def server_state(http, **headers) -> dict[tuple[str, str], dict]:
    """Everything the API holds, read afresh."""
    state = {}
    for facility in all_pages(http, "/api/v1/facilities", ALL_STATUSES, **headers):
        detail = get_json(http, f"/api/v1/facilities/{facility['facility_id']}", **headers)
        state[("facility", facility["facility_id"])] = detail
    for provider in all_pages(http, "/api/v1/providers", **headers):
        detail = get_json(http, f"/api/v1/providers/{provider['provider_id']}", **headers)
        state[("provider", provider["provider_id"])] = detail
    for decision in all_pages(http, "/api/v1/decisions", **headers):
        state[("decision", decision["diarienummer"])] = decision
    for inspection in all_pages(http, "/api/v1/inspections", **headers):
        state[("inspection", inspection["diarienummer"])] = inspection
    return state
