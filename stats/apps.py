from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    """Statistics over the register: what supervision finds, where, in whose homes, and whether
    it gets better (stats/figures.py), drawn as charts (stats/charts.py) on /statistik/."""

    name = "stats"
    verbose_name = _("Statistik")
