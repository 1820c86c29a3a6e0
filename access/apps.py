from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

# The back office names the libraries' models in the service's words, in Swedish and through the
# catalogue in English: app label -> (the app's name, {model name -> (singular, plural)}). Only
# what is shown (the names in Model._meta.original_attrs, which migrations read, stay as they are).
THIRD_PARTY_NAMES = {
    "auth": (_("Konton och behörigheter"), {}),
    "axes": (
        _("Inloggningsspärrar"),
        {
            "accessattempt": (_("räknat inloggningsförsök"), _("räknade inloggningsförsök")),
            "accessfailurelog": (_("misslyckad inloggning"), _("misslyckade inloggningar")),
            "accesslog": (_("inloggning"), _("inloggningar")),
        },
    ),
    "otp_totp": (
        _("Tvåstegsinloggning"),
        {"totpdevice": (_("autentiseringsapp"), _("autentiseringsappar"))},
    ),
    "django_tasks_database": (
        _("Bakgrundsjobb"),
        {"dbtaskresult": (_("jobb"), _("jobb"))},
    ),
}


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("Åtkomst")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from access.chain import register_sqlite_function

        connection_created.connect(register_sqlite_function)
        name_third_party_models()
        translate_third_party_texts()


def name_third_party_models() -> None:
    for label, (app_name, models) in THIRD_PARTY_NAMES.items():
        try:
            config = apps.get_app_config(label)
        except LookupError:  # not installed in these settings
            continue
        config.verbose_name = app_name
        for model_name, (singular, plural) in models.items():
            meta = config.get_model(model_name)._meta
            meta.verbose_name = singular
            meta.verbose_name_plural = plural


# The libraries' apps whose texts the back office shows. Where a library marked a text for
# translation, our Swedish catalogue (access/locale/sv, kept by hand) translates it as it is; a
# field name or column heading the library left unmarked is passed through gettext here, with the
# library's English as the msgid, so that catalogue translates it too and English stays English.
THIRD_PARTY_APPS = ["axes", "otp_totp", "django_tasks_database"]


def _translatable(text):
    """The library's own English text, translated when shown (a lazy text is left as it is)."""
    if isinstance(text, str) and text:
        # Not a literal: makemessages must not put the library's English in our catalogues.
        return gettext_lazy(text)
    return text


def _translate_fieldset_names(get_fieldsets):
    def translated(self, request, obj=None):
        return [
            (_translatable(name), options) for name, options in get_fieldsets(self, request, obj)
        ]

    return translated


QR_CODE = "QR Code"


def _qrcode_link(model_admin, device):
    """django-otp's QR code column, with the link's text translated too (its own says "qrcode")."""
    from django.urls import NoReverseMatch, reverse
    from django.utils.html import format_html

    try:
        href = reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk})
    except NoReverseMatch:  # as the library: no link where its page is not there
        return ""
    return format_html('<a href="{}">{}</a>', href, _translatable(QR_CODE))


_qrcode_link.short_description = _translatable(QR_CODE)


def translate_third_party_texts() -> None:
    for label in THIRD_PARTY_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:  # not installed in these settings
            continue
        for model in config.get_models():
            for field in model._meta.get_fields():
                if hasattr(field, "verbose_name"):
                    field.verbose_name = _translatable(field.verbose_name)
                if hasattr(field, "help_text"):
                    field.help_text = _translatable(field.help_text)
    _translate_admin_texts()


def _translate_admin_texts() -> None:
    """Column headings the libraries' admins take from an unmarked description or a name."""
    if apps.is_installed("axes"):
        from axes.admin import AccessAttemptAdmin

        AccessAttemptAdmin.status.short_description = _translatable("Status")
        AccessAttemptAdmin.expiration.short_description = _translatable("Expiration")
    if apps.is_installed("django_otp.plugins.otp_totp"):
        from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin

        TOTPDeviceAdmin.qrcode_link = _qrcode_link
        # The library composes it at import from the user model's field names, in whatever
        # language was active then; ours is one whole sentence (username and e-mail address).
        TOTPDeviceAdmin.search_help_text = _translatable(
            "Search by user's username or email address"
        )
        TOTPDeviceAdmin.get_fieldsets = _translate_fieldset_names(TOTPDeviceAdmin.get_fieldsets)
    if apps.is_installed("django_tasks_db"):
        from django_tasks_db.admin import DBTaskResultAdmin
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.task_name.fget.short_description = _translatable("Task name")
        for method in (DBTaskResultAdmin.formatted_traceback, DBTaskResultAdmin.display_run_after):
            method.short_description = _translatable(method.short_description)
