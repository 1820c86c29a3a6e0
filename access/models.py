"""Accounts, the allowlist (frilistning), one-time logins and the access log."""

import datetime
import uuid

from django.conf import settings
from django.db import models, router
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.roles import Role
from register.models import Municipality


class Account(models.Model):
    """A user's role and, for municipal users, their municipality."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account"
    )
    role = models.CharField(_("roll"), max_length=20, choices=Role.choices)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kommun"),
    )
    # The language the user chose with the language switch: their pages on a new device and the
    # mail sent to them (alerts, one-time login links) are in it. Empty: Swedish.
    language = models.CharField(_("språk"), max_length=8, blank=True, default="")

    class Meta:
        verbose_name = _("konto")
        verbose_name_plural = _("konton")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=list(Role.values)), name="account_role_known"
            ),
            models.CheckConstraint(
                condition=~Q(role__in=[Role.MUNICIPAL_USER, Role.MUNICIPAL_ADMIN])
                | Q(municipality__isnull=False),
                name="account_municipal_role_has_municipality",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class AllowlistQuerySet(models.QuerySet):
    def active(self, *, now: datetime.datetime | None = None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)

    def expiring(self, *, within_days: int = 30, now: datetime.datetime | None = None):
        now = now or timezone.now()
        return self.active(now=now).filter(expires_at__lte=now + datetime.timedelta(within_days))


class AllowlistEntry(models.Model):
    """Frilistning: an e-mail address a municipality lets use the service, until it expires."""

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    email = models.EmailField(_("e-postadress"))
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("kommun")
    )
    role = models.CharField(
        _("roll"),
        max_length=20,
        choices=[(r.value, r.label) for r in (Role.MUNICIPAL_USER, Role.MUNICIPAL_ADMIN)],
        default=Role.MUNICIPAL_USER,
    )
    created_at = models.DateTimeField(_("tillagd"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("bekräftad"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    expires_at = models.DateTimeField(_("gäller till"))
    revoked_at = models.DateTimeField(_("återkallad"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AllowlistQuerySet.as_manager()

    class Meta:
        verbose_name = _("frilistad adress")
        verbose_name_plural = _("frilistade adresser")
        ordering = ["email"]
        constraints = [
            # One live entry per address in each municipality. Two municipalities may list one
            # address, each on its own entry: a municipality adding an address is never told
            # that another lists it. At login the oldest live entry decides the municipality
            # (services.live_entry), so a second municipality's entry takes no one over.
            models.UniqueConstraint(
                fields=["email", "municipality"],
                condition=Q(revoked_at__isnull=True),
                name="allowlist_one_live_entry_per_email_and_municipality",
            ),
        ]
        indexes = [
            # The check on every request of a municipal user, and the login lookup.
            models.Index(fields=["email", "revoked_at", "expires_at"], name="allowlist_live_idx"),
            models.Index(fields=["municipality", "expires_at"], name="allowlist_reminder_idx"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class LoginToken(models.Model):
    """A one-time login link and code sent to an allowlisted address. Only hashes are kept.

    The link works in any browser (256 random bits). The code (six digits) works only in the
    browser session that asked for it, and only the latest one asked for there: ``session_hash``
    is the keyed hash of a random value kept in that session (access.views.login_start).
    """

    email = models.EmailField()
    link_hash = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64)
    session_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Codes typed for this token, right or wrong: each is counted by a conditional UPDATE
    # before it is compared, so concurrent guesses cannot pass LOGIN_CODE_ATTEMPTS.
    code_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["email", "created_at"], name="logintoken_email_idx")]

    def __str__(self) -> str:
        return f"Inloggningstoken {self.pk}"


class LoginRequest(models.Model):
    """Every request for a login link, allowlisted or not: the rate limits count these."""

    email_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["email_hash", "at"], name="loginrequest_email_idx"),
            models.Index(fields=["ip", "at"], name="loginrequest_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"Begäran om inloggning {self.at:%Y-%m-%d %H:%M}"


class LoginCodeAttempt(models.Model):
    """Every code typed, allowlisted address or not: the daily caps count the wrong ones per
    address, per IP address and in all (services.login_with_code). Written before the code is
    compared, so concurrent guesses count each other."""

    email_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(auto_now_add=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # The three counts of wrong codes in the last day.
            models.Index(fields=["email_hash", "at"], name="logincodeattempt_email_idx"),
            models.Index(fields=["ip", "at"], name="logincodeattempt_ip_idx"),
            models.Index(fields=["at"], name="logincodeattempt_at_idx"),
        ]

    def __str__(self) -> str:
        return f"Inloggningskod {self.at:%Y-%m-%d %H:%M}"


class AppendOnlyError(Exception):
    """The access log is append-only: no entry is changed or removed through the application."""


class AccessEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Åtkomstloggen kan inte ändras.")

    def delete(self):
        raise AppendOnlyError("Åtkomstloggen kan inte ändras.")

    # Django reaches these from bulk_update and friends.
    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("Åtkomstloggen kan inte ändras.")

    def bulk_create(self, objs, batch_size=None, **kwargs):
        """Appended in the hash chain (access/chain.py), as every entry is."""
        from access.log import append_entries

        return append_entries(list(objs), self.db, batch_size=batch_size)


class AccessEvent(models.Model):
    """One entry of the access log, in ``settings.ACCESS_LOG_DATABASE`` (access/routers.py): on
    SQLite the alias ``accesslog``, a file of its own, so logging never waits on the register's
    write lock; on PostgreSQL the register's own database unless ``ACCESS_LOG_DATABASE_URL``
    names another. Written only by access.log, which says how each database commits an entry
    and what a rolled-back transaction of the register does to it."""

    class Action(models.TextChoices):
        LOGIN = "login", _("Inloggning")
        LOGIN_FAILED = "login_failed", _("Misslyckad inloggning")
        LOGIN_LINK_REQUESTED = "login_link_requested", _("Inloggningslänk begärd")
        LOGOUT = "logout", _("Utloggning")
        SESSION_ENDED = "session_ended", _("Sessionen avslutad (behörighet upphört)")
        SEARCH = "search", _("Sökning")
        FACILITY_VIEW = "facility_view", _("Visning av verksamhet")
        PROVIDER_VIEW = "provider_view", _("Visning av huvudman")
        PERSONAL_DATA_VIEW = "personal_data_view", _("Visning av personuppgifter")
        # A protected home shown to a signed-in user or a municipality's system (DESIGN.md):
        # one entry per home, whatever page or API read showed it.
        PROTECTED_VIEW = "protected_view", _("Visning av skyddat boende")
        ALLOWLIST_CHANGE = "allowlist_change", _("Ändring i frilistningen")
        DOCUMENT_DOWNLOAD = "document_download", _("Hämtning av dokument")
        LOG_EXPORT = "log_export", _("Export av åtkomstloggen")
        # A page of the log read on screen (an extract, the search, the review report): reading
        # the log is logged, as reading, and only a downloaded file as an export.
        LOG_VIEW = "log_view", _("Visning av åtkomstloggen")
        # The API (api/): reads without a portal counterpart, and the clients' keys.
        API_READ = "api_read", _("Läsning genom API:t")
        OPEN_DATA_DOWNLOAD = "open_data_download", _("Hämtning av öppna data")
        API_CLIENT_CHANGE = "api_client_change", _("Ändring av API-klient eller nyckel")

    at = models.DateTimeField(_("tid"), default=timezone.now, db_index=True)
    user_id = models.BigIntegerField(_("användar-id"), null=True)
    username = models.CharField(_("användare"), max_length=254, blank=True, default="")
    role = models.CharField(_("roll"), max_length=20, blank=True, default="")
    municipality_code = models.CharField(_("kommunkod"), max_length=4, blank=True, default="")
    action = models.CharField(_("händelse"), max_length=24, choices=Action.choices)
    object_type = models.CharField(_("objekttyp"), max_length=40, blank=True, default="")
    object_id = models.CharField(_("objekt"), max_length=100, blank=True, default="")
    fields = models.CharField(_("fält"), max_length=400, blank=True, default="")
    ip = models.GenericIPAddressField(_("IP-adress"), null=True, blank=True)
    detail = models.CharField(_("detaljer"), max_length=1000, blank=True, default="")
    # The hash chain (access/chain.py), set by the INSERT itself. Nullable only so that adding
    # them was an ALTER TABLE ADD COLUMN on SQLite: a rebuilt table would lose its triggers.
    prev_hash = models.CharField(  # noqa: DJ001
        _("föregående posts hash"), max_length=64, null=True, editable=False
    )
    hash = models.CharField(_("hash"), max_length=64, null=True, editable=False)  # noqa: DJ001
    # The request that wrote the entry (its X-Request-ID: config/request_id.py), so an operator
    # can follow one request from the proxy's log to this entry. Empty outside a request (a
    # command, the worker). Nullable for the reason the chain's columns are, and outside the
    # chain's body (access/chain.py): entries written before it existed still verify.
    request_id = models.CharField(  # noqa: DJ001
        _("anrops-id"), max_length=64, null=True, blank=True, editable=False
    )

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("loggpost")
        verbose_name_plural = _("åtkomstlogg")
        ordering = ["-at", "-id"]
        indexes = [
            # The municipal extract and the review report: per user or municipality over time.
            models.Index(fields=["user_id", "at"], name="accessevent_user_idx"),
            models.Index(fields=["municipality_code", "at"], name="accessevent_municipality_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"

    def save(self, *args, using: str | None = None, **kwargs):
        """A new entry only, appended in the hash chain as access.log.record appends it."""
        if self.pk is not None:
            raise AppendOnlyError("Åtkomstloggen kan inte ändras.")
        from access.log import _insert

        _insert(self, using or router.db_for_write(AccessEvent, instance=self))

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Åtkomstloggen kan inte ändras.")


class AccessLogChain(models.Model):
    """The access log's hash chain before its first entry (access/chain.py): one row. At the
    start 0 and 64 zeros; prune_access_log sets it to the last entry it removed, so the first
    remaining entry still links to it. Verification trusts it only as far as the exported
    heads and the one-year floor of pruning allow (verify_access_log)."""

    anchor_id = models.BigIntegerField(_("ankarets id"), default=0)
    anchor_hash = models.CharField(_("ankarets hash"), max_length=64, default="0" * 64)
    anchor_at = models.DateTimeField(_("ankarets tid"), null=True, blank=True)

    class Meta:
        verbose_name = _("åtkomstloggens kedja")
        verbose_name_plural = _("åtkomstloggens kedja")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="accesslogchain_one_row")]

    def __str__(self) -> str:
        return f"Kedjans ankare: post {self.anchor_id}"


class MunicipalityLogin(models.Model):
    """How a municipality's users sign in: the one-time link (default) or the municipality's own
    identity provider through OpenID Connect (access/oidc.py). The allowlist decides either way."""

    class Method(models.TextChoices):
        LINK = "link", _("Engångslänk eller kod via e-post")
        OIDC = "oidc", _("Organisationens inloggning (OpenID Connect)")

    municipality = models.OneToOneField(
        Municipality,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="login_setting",
        verbose_name=_("kommun"),
    )
    method = models.CharField(
        _("inloggningssätt"), max_length=10, choices=Method.choices, default=Method.LINK
    )

    class Meta:
        verbose_name = _("inloggningssätt för kommun")
        verbose_name_plural = _("inloggningssätt för kommuner")
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=["link", "oidc"]), name="municipalitylogin_method_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id}: {self.get_method_display()}"
