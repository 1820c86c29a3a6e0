from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "documents"
    verbose_name = _("Beslutshandlingar och begäran om utlämnande")

    def ready(self):
        from documents import signals  # noqa: F401 (connects the receivers)
