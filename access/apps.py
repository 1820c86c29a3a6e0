from django.apps import AppConfig, apps
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
