"""The figures as files and API answers: CSV and JSON (being written, issue 20)."""

from stats.figures import Figure


def figure_csv(figure: Figure) -> str:
    """The figure as CSV text: a header row, then one row per row of the figure."""
    raise NotImplementedError


def figure_json(figure: Figure) -> dict:
    """The figure as a JSON-ready dict (the API's and open data's shape)."""
    raise NotImplementedError
