"""The figures drawn as charts: SVG made on the server with pygal (being written, issue 20)."""

from stats.figures import Figure


def render(figure: Figure) -> str:
    """The figure's chart as an inline SVG element (a SafeString), "" for none yet."""
    return ""
