import pytest

# The support modules' asserts show their values when they fail, as the tests' own do.
pytest.register_assert_rewrite(
    "tests.api_support",
    "tests.assertions",
    "tests.disclosure_support",
    "tests.import_support",
)


@pytest.fixture(autouse=True)
def _plain_static_files(settings, tmp_path):
    """Production serves hashed static files from collectstatic's manifest; tests have none."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        # Each test's decision documents in a folder of its own, empty at the start.
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    # Production redirects plain HTTP to HTTPS; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    # The rate count in memory, with the project's options: the database cache would write in
    # the test's own transaction (clearing it deletes rows a live server committed), and on
    # PostgreSQL a transaction with an id holds the changes feed back until it ends.
    # tests/test_api_rate_limit_cache.py tests the database cache itself.
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tests",
        }
    }


@pytest.fixture
def roomy_rate_limit(settings):
    """The API's rate limit out of the way (a test makes many calls as one client), its counts
    cleared."""
    from django.core.cache import cache

    cache.clear()
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000


@pytest.fixture
def municipal_user(db):
    from access.roles import Role
    from tests.factories import make_user

    return make_user(Role.MUNICIPAL_USER, municipality="0880")


@pytest.fixture
def listed(db):
    """An allowlisted social worker of Kalmar kommun who has never logged in."""
    import datetime

    from django.utils import timezone

    from access.models import AllowlistEntry
    from tests.login_support import ADDRESS

    now = timezone.now()
    return AllowlistEntry.objects.create(
        email=ADDRESS,
        municipality_id="0880",
        confirmed_at=now,
        expires_at=now + datetime.timedelta(days=365),
    )


@pytest.fixture
def registrator(django_user_model):
    """An IVO registrator: the person whose name goes on history rows written through the admin."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from access.models import Account
    from access.roles import Role

    user = django_user_model.objects.create_user(
        username="registrator", password="registrator-password", is_staff=True
    )
    Account.objects.create(user=user, role=Role.IVO_REGISTRATOR)
    TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    return user


@pytest.fixture
def writers(db):
    """On PostgreSQL two writers, each on a connection of its own that commits for real (the feed
    lists only ended transactions: tests/test_api_changes.py), and what they committed removed
    afterwards; on SQLite None (the writes are made in the test's own transaction)."""
    from django.db import connection

    from api.models import ChangeEvent
    from tests.api_support import Writer, remove_committed

    if connection.vendor != "postgresql":
        yield None
        return
    first_event_id = (
        ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    started = [Writer(), Writer()]
    yield started
    # The second first: its open transaction rolls back and lets a write of the first that
    # waits on it finish, even when the test failed half-way; then a fresh connection cleans up.
    for writer in reversed(started):
        writer.stop()
    cleaner = Writer()
    cleaner.call(lambda: remove_committed(first_event_id))
    cleaner.stop()


@pytest.fixture
def seeded_register(db, settings):
    """The demo register and a sole trader's home with a manager: the data the privacy scans
    look for (tests.disclosure_support)."""
    from tests.disclosure_support import seed_with_personal_data

    # seed_demo sets the demo logins' passwords: a fast hasher keeps that quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed_with_personal_data()


@pytest.fixture
def public_register(db):
    """Four public homes at two providers, with decisions, findings and inspections
    (tests.factories.build_public_register); add_protected_homes puts protected ones among them."""
    from tests.factories import build_public_register

    return build_public_register()


# On PostgreSQL the feed lists only ended transactions, so a test that writes in its own
# transaction sees none of its writes there; such tests run on SQLite, and the follower below
# covers the feed on both databases.
@pytest.fixture
def sqlite_feed():
    from django.db import connection

    if connection.vendor == "postgresql":
        pytest.skip("the feed lists only ended transactions (the follower test covers PostgreSQL)")


def pytest_sessionstart(session):
    # The English the pages are tested in is the committed .po files' (make compiles them at
    # install; a test run straight from pytest compiles them here).
    from config.translations import compile_all

    compile_all()


# The feeds ordered by transaction id (api/changes.py ended_transactions_only) list on PostgreSQL
# only what every writing transaction of the whole cluster that began earlier has finished with:
# another process's open transaction, in another database of the cluster too, holds them and
# their cursors back. These modules assert exact cursors and pages, so they run alone on the
# cluster: CI's PostgreSQL leg runs them after its two processes have ended (.ci/run).
ALONE_ON_THE_CLUSTER = {
    "test_api_changes.py",
    "test_api_notifications.py",
    "test_api_disclosure.py",
    "test_protected_homes.py",
    "test_protected_homes_review.py",
}


def pytest_collection_modifyitems(items):
    """Every database test may touch every database: the access log has one of its own on
    SQLite (config/settings.py), and every logged page writes to it. The feeds' modules are
    marked ``alone_on_the_cluster`` (above)."""
    for item in items:
        if item.path.name in ALONE_ON_THE_CLUSTER:
            item.add_marker(pytest.mark.alone_on_the_cluster)
        marker = item.get_closest_marker("django_db")
        if marker is not None and "databases" not in marker.kwargs:
            item.add_marker(
                pytest.mark.django_db(*marker.args, databases="__all__", **marker.kwargs)
            )


class _Mailbox:
    """What a real SMTP server on loopback received."""

    def __init__(self):
        self.messages = []
        self.refusal = None  # a reply such as "554 ..." refuses every message, keeping none

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it so
        from email import message_from_bytes, policy

        if self.refusal:
            return self.refusal
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def bodies(self) -> list[str]:
        return [message.get_body(("plain",)).get_content() for message in self.messages]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on loopback; Django's SMTP backend sends to it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield mailbox
    controller.stop()


# Every write to the register goes through register.services (STYLE.md §2): only there are the
# history, the legal rules and the watchers' events (register/events.py) written with it. A
# record of the register saved or deleted one by one from the project's own code anywhere else
# fails the test that made it happen. Tests themselves may write around the services on purpose
# (to show that the database refuses a bad row); bulk statements (``update()``, bulk_create) send
# no signals, and the services' own bulk writes are theirs.

_PROJECT = str(__import__("pathlib").Path(__file__).resolve().parent.parent)
_SERVICES = _PROJECT + "/register/services.py"
_TESTS = _PROJECT + "/tests/"
_MODELS = _PROJECT + "/register/models.py"  # a model's own save(), on the way from its caller


def _written_past_the_services() -> str:
    import sys

    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == _SERVICES or filename.startswith(_TESTS):
            return ""
        if filename.startswith(_PROJECT) and "/.venv/" not in filename and filename != _MODELS:
            return f"{filename[len(_PROJECT) + 1 :]}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


def _guard_register_write(sender, instance, **kwargs):
    if sender._meta.app_label != "register" or sender.__name__.startswith("Historical"):
        return
    if sender.__name__ in ("County", "Municipality", "DataVersion", "RegisterEvent"):
        return  # reference data (migrations), the data version's row, the events' own writes
    where = _written_past_the_services()
    assert not where, (
        f"{sender.__name__} written past register.services at {where}: history, rules and "
        "watchers' events would be skipped"
    )


@pytest.fixture(autouse=True, scope="session")
def _register_writes_go_through_the_services():
    from django.db.models.signals import pre_delete, pre_save

    pre_save.connect(_guard_register_write, dispatch_uid="register-writes-guard-save")
    pre_delete.connect(_guard_register_write, dispatch_uid="register-writes-guard-delete")
    yield
    pre_save.disconnect(dispatch_uid="register-writes-guard-save")
    pre_delete.disconnect(dispatch_uid="register-writes-guard-delete")
