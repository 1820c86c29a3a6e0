import pytest


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


def pytest_collection_modifyitems(items):
    """Every database test may touch every database: the access log has one of its own on
    SQLite (config/settings.py), and every logged page writes to it."""
    for item in items:
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
