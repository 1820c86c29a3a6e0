"""The figures drawn as charts: SVG made on the server with pygal, inlined in the page.

The site's content security policy allows no inline script, no inline style and no style=""
attributes, so pygal's own <script>, <style> and tooltip are taken out of its SVG and the chart is
styled by the static stylesheet stats/static/stats/charts.css (classes ``stats-chart``, the
palette's ``c-*`` and the map's ``scale-*``). What the chart shows is in the table beside it: the
<svg> is one image (role="img") with the figure's title as its name, and pygal's per-value <desc>
and <title> texts, which a screen reader would read out of order, are dropped.

A suppressed cell (fewer than 5 homes) is never handed to pygal: it is drawn as a gap, so its
value cannot leak into the SVG.

Colours: the Okabe–Ito palette, chosen per number of series so that the series also differ in
lightness (greyscale print, colour-blind readers); lines also differ by dash and marker shape,
stacked series go light (bottom) to dark (top). The map uses one hue, light to dark.
"""

import copy
import functools
import math
from pathlib import Path
from xml.etree import ElementTree as ET

import pygal
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from pygal.graph.map import BaseMap
from pygal.style import Style

from stats.figures import Cell, Chart, Column, Figure, Row

# The drawing's own coordinates: the SVG scales to its box's width (charts.css), so text sizes
# are in these units. 640 wide with 20-unit text reads at about 11 px on a 390 px phone and
# 20 px on a desktop, where charts.css caps the chart's width.
WIDTH = 640
HEIGHT = 400
FONT_SIZE = 20
# The site's font (portal/static/portal/site.css), repeated in charts.css; pygal only uses the
# size to leave room for labels.
_STYLE = Style(
    font_family="system-ui, sans-serif",
    label_font_size=FONT_SIZE,
    major_label_font_size=FONT_SIZE,
    legend_font_size=FONT_SIZE,
    title_font_size=FONT_SIZE,
    value_font_size=FONT_SIZE,
    no_data_font_size=FONT_SIZE,
)
# What every chart is drawn with: no script, no style of pygal's own (stats/static/stats/charts.css
# styles the classes), no XML declaration, a viewBox that scales, no tooltips.
_PYGAL = dict(
    style=_STYLE,
    js=[],
    css=[],
    no_prefix=True,
    disable_xml_declaration=True,
    explicit_size=False,
    tooltips=False,
)

# Okabe & Ito, "Color Universal Design" (2008): told apart by colour-blind readers. Ordered
# light to dark by their grey in a greyscale print (CSS grayscale(): yellow 219, sky blue 164,
# orange 163, purple 142, green 121, vermillion 113, blue 94, black 0). For each number of series
# a subset whose greys are far apart; the CSS class is c-<name>.
_PALETTES: dict[int, tuple[str, ...]] = {
    1: ("blue",),
    2: ("orange", "blue"),
    3: ("yellow", "skyblue", "blue"),
    4: ("yellow", "skyblue", "vermillion", "black"),
    5: ("yellow", "orange", "green", "blue", "black"),
}
_ALL_COLOURS = ("yellow", "skyblue", "orange", "purple", "green", "vermillion", "blue", "black")
# Lines are thin: yellow and sky blue vanish against white, so lines take dark colours first.
_LINE_COLOURS = ("blue", "vermillion", "black", "green", "orange", "purple")
# Line series also differ by dash (charts.css, serie-N) and by marker shape.
_MARKERS = ("circle", "square", "diamond", "triangle")
_MARKER_SIZE = 6

# Bar and stacked charts with more rows than this are drawn horizontally: their labels (län,
# review areas) would not fit under the bars on a phone.
_MAX_VERTICAL_ROWS = 8
_HBAR_ROW_HEIGHT = 36

# SCB länskod → länsbokstav, the class of the län's shape in the map (sAB, sC, ...); the same as
# register.County.letter (reference data, register/data), kept here so that drawing needs no query.
COUNTY_LETTERS = {
    "01": "AB",
    "03": "C",
    "04": "D",
    "05": "E",
    "06": "F",
    "07": "G",
    "08": "H",
    "09": "I",
    "10": "K",
    "12": "M",
    "13": "N",
    "14": "O",
    "17": "S",
    "18": "T",
    "19": "U",
    "20": "W",
    "21": "X",
    "22": "Y",
    "23": "Z",
    "24": "AC",
    "25": "BD",
}
_MAP_FILE = Path(__file__).parent / "data" / "se-lan.svg"
_MAP_WIDTH = 600
_MAP_HEIGHT = 720
_MAP_LEGEND_WIDTH = 290
# The map's classes, light to dark (charts.css scale-0 ... scale-5).
_SCALE_STEPS = 6

_DROPPED_TAGS = {"script", "style", "desc", "title"}
_DROPPED_CLASSES = {"reactive", "tooltip-trigger", "activate-serie"}


def render(figure: Figure) -> SafeString:
    """The figure's chart as an inline <svg> element, styled by stats/charts.css."""
    # pygal takes 5–15 ms a chart; a page shows several, and the same figures come back with
    # the same filters. The cache is keyed by everything drawn, so it cannot go stale.
    return _render(_drawn(figure), get_language())


@functools.lru_cache(maxsize=256)
def _render(drawn: tuple, language: str | None) -> SafeString:
    return _render_figure(_figure(drawn))


def _drawn(figure: Figure) -> tuple:
    """What the chart is drawn from, hashable. A suppressed cell becomes None here, before
    pygal (or the cache) sees it: drawn as a gap, its value cannot reach the SVG."""
    return (
        figure.key,
        figure.title,
        figure.row_heading,
        figure.chart.kind,
        figure.chart.columns,
        tuple(figure.columns),
        tuple(
            (row.key, row.label, tuple(cell.value if cell.shown else None for cell in row.cells))
            for row in figure.rows
        ),
    )


def _figure(drawn: tuple) -> Figure:
    key, title, row_heading, kind, chart_columns, columns, rows = drawn
    return Figure(
        key=key,
        title=title,
        row_heading=row_heading,
        columns=list(columns),
        rows=[
            Row(row_key, label, [Cell(value, homes=0) for value in values])
            for row_key, label, values in rows
        ],
        chart=Chart(kind, chart_columns),
    )


def _render_figure(figure: Figure) -> SafeString:
    svg = _county_map(figure) if figure.chart.kind == "map" else _chart(figure)
    svg.set("role", "img")
    svg.set(
        "aria-label",
        gettext("%(title)s. Samma siffror finns i tabellen under diagrammet.")
        % {"title": figure.title},
    )
    # Escaped by ElementTree: labels and titles come from the register.
    return mark_safe(ET.tostring(svg, encoding="unicode"))


# Formatting ----------------------------------------------------------------------------------


def _number(value: float, decimals: int | None = None) -> str:
    if decimals is None:
        # round(): 0.3 * 100 is 30.000000000000004, which is 30.
        decimals = 0 if float(round(value, 6)).is_integer() else 1
    return number_format(round(value, decimals), decimal_pos=decimals, force_grouping=True)


def _percent(share: float) -> str:
    """A share (0–1) as the site writes it: "31 %" in Swedish, "31%" in English."""
    return gettext("%(percent)s %%") % {"percent": _number(share * 100)}


def _formatter(column: Column):
    return _percent if column.kind == "share" else _number


def _no_text(value: float) -> str:
    return ""


def _range_label(column: Column, low: float, high: float) -> str:
    if column.kind == "share":
        span = f"{_number(low * 100)}–{_number(high * 100)}"
        return gettext("%(percent)s %%") % {"percent": span}
    return f"{_number(low)}–{_number(high)}"


# Charts --------------------------------------------------------------------------------------


def _chart(figure: Figure) -> ET.Element:
    kind = figure.chart.kind
    columns = [figure.column(key) for key in figure.chart.columns]
    rows = [row for row in figure.rows if row.key != "total"] or figure.rows
    horizontal = kind == "hbar" or (kind in ("bar", "stacked") and len(rows) > _MAX_VERTICAL_ROWS)
    if horizontal:
        # pygal draws a horizontal chart's first label at the bottom: reverse so that the rows
        # read top to bottom as in the table.
        rows = rows[::-1]
    many = len(columns) > 1
    legend_columns = _legend_columns(columns)
    # pygal leaves room for len // columns legend rows: add the last, incomplete one.
    legend_rows_missing = (
        math.ceil(len(columns) / legend_columns) - len(columns) // legend_columns if many else 0
    )
    config = dict(
        **_PYGAL,
        width=WIDTH,
        height=HEIGHT,
        show_legend=many,
        legend_at_bottom=True,
        legend_at_bottom_columns=legend_columns,
        legend_box_size=28 if kind == "line" else 20,
        truncate_legend=-1,
        truncate_label=-1,
        include_x_axis=True,
        allow_interruptions=True,
        show_x_guides=False,
        dots_size=_MARKER_SIZE,
        spacing=12,
        margin=8,
        # Half a label's width: the last label is centred on the plot's right edge.
        margin_right=8 + FONT_SIZE * 1.5,
        margin_bottom=8 + legend_rows_missing * FONT_SIZE * 1.5,
        value_formatter=_no_text,
        no_data_text=gettext("Inga siffror att visa"),
    )
    if horizontal:
        # Room for every row's label: a band per row, wider for side-by-side bars.
        band = _HBAR_ROW_HEIGHT if kind == "stacked" else _HBAR_ROW_HEIGHT + 14 * (len(columns) - 1)
        config["height"] = max(HEIGHT, 140 + len(rows) * band)
    chart_class = {
        ("line", False): pygal.Line,
        ("bar", False): pygal.Bar,
        ("stacked", False): pygal.StackedBar,
        ("bar", True): pygal.HorizontalBar,
        ("hbar", True): pygal.HorizontalBar,
        ("stacked", True): pygal.HorizontalStackedBar,
    }[(kind, horizontal)]
    series = []
    for column in columns:
        index = [each.key for each in figure.columns].index(column.key)
        # A suppressed cell is None since _drawn: a gap.
        series.append([row.cells[index].value for row in rows])
    shown = [value for values in series for value in values if value is not None]
    if kind == "stacked":
        shown = [sum(value or 0 for value in row) for row in zip(*series, strict=True)]
    if shown:
        # The axis labels formatted here, once each: pygal would format every value for the
        # tooltips that are thrown away (value_formatter below), which costs more than drawing.
        formatter = _formatter(columns[0])
        config["y_labels"] = [
            {"value": tick, "label": formatter(tick)}
            for tick in _ticks(min(0, *shown), max(0, *shown))
        ]
    else:
        # Nothing to draw: no grid of empty value lines either, only the message.
        config["show_y_guides"] = False
    chart = chart_class(**config)
    chart.x_labels = [row.label for row in rows]
    for column, values in zip(columns, series, strict=True):
        chart.add(column.label, values)
    svg = chart.render_tree()
    colours = _colours(kind, len(columns))
    _clean(svg, colours)
    if many:
        _place_legend(svg, legend_columns)
    if kind == "line":
        _mark_lines(svg)
    else:
        blank = {
            row.label
            for row, *values in zip(rows, *series, strict=True)
            if all(v is None for v in values)
        }
        _mark_blank_rows(svg, blank, horizontal=horizontal)
    shape = "horizontal" if horizontal else "vertical"
    svg.set("class", f"stats-chart stats-chart--{kind} stats-chart--{shape}")
    return svg


def _ticks(low: float, high: float) -> list[float]:
    """Four or five round steps from zero (or the lowest value) past the highest value: few
    enough that the labels fit at a phone's width, and round (10 %, 20 %, not 8 %, 16 %)."""
    if high == low:
        high = low + 1
    step = _nice_step((high - low) / 4)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def _nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999999)


def _legend_columns(columns: list[Column]) -> int:
    longest = max(len(column.label) for column in columns)
    # About 0.6 em a character, plus the key: as many columns as fit the width.
    return max(1, min(len(columns), int(WIDTH // (longest * FONT_SIZE * 0.6 + 60))))


def _colours(kind: str, count: int) -> list[str]:
    palette = _LINE_COLOURS if kind == "line" else _PALETTES.get(count, _ALL_COLOURS)
    return [palette[i % len(palette)] for i in range(count)]


def _clean(svg: ET.Element, colours: list[str]) -> None:
    """Takes out what the CSP or a screen reader would trip on: pygal's <style>, <script>,
    comments (with the date), the tooltip, <title>/<desc> texts, style="" attributes, random ids;
    and puts the palette's classes in place of pygal's color-N."""
    for parent in list(svg.iter()):
        for child in list(parent):
            if (
                not isinstance(child.tag, str)  # a comment
                or child.tag in _DROPPED_TAGS
                or "tooltip-overlay" in child.get("class", "").split()
            ):
                parent.remove(child)
    for element in svg.iter():
        element.attrib.pop("style", None)
        element.attrib.pop("id", None)
        classes = element.get("class")
        if classes is None:
            continue
        kept = []
        for name in classes.split():
            if name in _DROPPED_CLASSES:
                continue
            if name.startswith("color-"):
                name = "c-" + colours[int(name[6:]) % len(colours)]
            kept.append(name)
        element.set("class", " ".join(kept))
    defs = svg.find("defs")
    if defs is not None and not len(defs):
        svg.remove(defs)
    # Everything in the chart is decoration of the one image: the numbers are in the table.
    for child in svg:
        child.set("aria-hidden", "true")


def _marker(shape: str, x: float, y: float, size: float) -> ET.Element:
    if shape == "square":
        return ET.Element(
            "rect",
            {
                "x": _f(x - size * 0.85),
                "y": _f(y - size * 0.85),
                "width": _f(size * 1.7),
                "height": _f(size * 1.7),
                "class": "dot",
            },
        )
    if shape == "diamond":
        points = [
            (x, y - size * 1.2),
            (x + size * 1.2, y),
            (x, y + size * 1.2),
            (x - size * 1.2, y),
        ]
    elif shape == "triangle":
        points = [
            (x, y - size * 1.2),
            (x + size * 1.1, y + size * 0.8),
            (x - size * 1.1, y + size * 0.8),
        ]
    else:
        return ET.Element("circle", {"cx": _f(x), "cy": _f(y), "r": _f(size), "class": "dot"})
    return ET.Element(
        "polygon", {"points": " ".join(f"{_f(a)},{_f(b)}" for a, b in points), "class": "dot"}
    )


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _series_index(element: ET.Element) -> int | None:
    for name in element.get("class", "").split():
        if name.startswith("serie-"):
            return int(name[6:])
    return None


def _place_legend(svg: ET.Element, columns: int) -> None:
    """The legend's columns across the whole width: pygal spreads them over the plot only, which
    beside long row labels (a horizontal chart) is too narrow and the labels overlap."""
    legends = next(g for g in svg.iter("g") if g.get("class") == "legends")
    _x, y = legends.get("transform").removeprefix("translate(").rstrip(")").split(",")
    left = 8
    legends.set("transform", f"translate({left}, {y.strip()})")
    step = (WIDTH - 2 * left) / columns
    for number, legend in enumerate(g for g in legends if "legend" in _classes(g)):
        box = legend.find("rect")
        move = (number % columns) * step - float(box.get("x"))
        legend.set("transform", f"translate({_f(move)}, 0)")


def _classes(element: ET.Element) -> list[str]:
    return element.get("class", "").split()


def _mark_blank_rows(svg: ET.Element, labels: set[str], *, horizontal: bool) -> None:
    """A "–" where a row has no bar (suppressed, fewer than 5 homes), as in the table, so that
    it does not read as a zero."""
    if not labels:
        return
    axis = "y" if horizontal else "x"
    for group in svg.iter("g"):
        if group.get("class", "").split()[:2] != ["axis", axis]:
            continue
        for guide in group:
            text = guide.find("text")
            if text is None or text.text not in labels:
                continue
            x, y = float(text.get("x")), float(text.get("y"))
            mark = ET.SubElement(guide, "text", {"class": "blank-mark"})
            if horizontal:
                mark.attrib.update(x=_f(x + 20), y=_f(y))
            else:
                mark.attrib.update(x=_f(x), y=_f(y - FONT_SIZE * 1.6))
            mark.text = "–"


def _mark_lines(svg: ET.Element) -> None:
    """Each line series its own marker shape (circle, square, diamond, triangle), and the legend
    a piece of the line with its dash and marker instead of pygal's square."""
    for series in svg.iter("g"):
        index = _series_index(series)
        if index is None:
            continue
        shape = _MARKERS[index % len(_MARKERS)]
        for dots in series.findall("g"):
            if "dots" not in dots.get("class", "").split():
                continue
            for circle in dots.findall("circle"):
                dots.remove(circle)
                dots.append(
                    _marker(shape, float(circle.get("cx")), float(circle.get("cy")), _MARKER_SIZE)
                )
    legends = [g for g in svg.iter("g") if "legend" in g.get("class", "").split()]
    for index, legend in enumerate(legends):
        box = legend.find("rect")
        if box is None:
            continue
        x, y = float(box.get("x")), float(box.get("y"))
        size = float(box.get("width"))
        colour = [name for name in box.get("class", "").split() if name.startswith("c-")]
        legend.remove(box)
        key = ET.Element("g", {"class": " ".join([f"legend-key serie-{index}", *colour])})
        middle = y + float(box.get("height")) / 2
        key.append(
            ET.Element(
                "path",
                {"d": f"M{_f(x)} {_f(middle)} h{_f(size)}", "class": "line nofill"},
            )
        )
        key.append(_marker(_MARKERS[index % len(_MARKERS)], x + size / 2, middle, _MARKER_SIZE))
        legend.insert(0, key)


# The map -------------------------------------------------------------------------------------


@functools.cache
def _county_shapes() -> ET.Element:
    """The vendored län map, parsed once per process (stats/data/NOTICE), without its SVG
    namespace so that it serialises inside pygal's tree without prefixes."""
    root = ET.parse(_MAP_FILE).getroot()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
    for name in ("version", "xmlns"):
        root.attrib.pop(name, None)
    return root


class CountyMap(BaseMap):
    """Sweden by län on pygal's map base class: the shapes of pygal-maps-se (whose package does
    not import with pygal 3), each län given a class of the scale instead of pygal's inline
    fill-opacity, and no tooltip."""

    # BaseMap names an area only in tooltips, which are not drawn.
    area_names = {letter: code for code, letter in COUNTY_LETTERS.items()}
    area_prefix = "s"
    kind = "lan"
    x_labels = list(COUNTY_LETTERS.values())
    # The shapes are parsed once (_county_shapes); BaseMap would parse this string every time.
    svg_map = ""

    def __init__(self, *args, area_classes: dict[str, str], **kwargs):
        self.area_classes = area_classes
        super().__init__(*args, **kwargs)

    def _has_data(self):
        # A map where every län is suppressed is still a map (all hatched), not "no data".
        return True

    @property
    def _values(self):
        return [0]

    def _plot(self):
        shapes = copy.deepcopy(_county_shapes())
        shapes.set("width", str(self.view.width))
        shapes.set("height", str(self.view.height))
        for area in shapes.iter("g"):
            classes = area.get("class", "").split()
            if self.kind not in classes:
                continue
            letter = classes[0][len(self.area_prefix) :]
            # A län outside the figure (filtered to another län): drawn, but blank.
            classes.append(self.area_classes.get(letter, "outside"))
            area.set("class", " ".join(classes))
        self.nodes["plot"].append(shapes)


def _breaks(values: list[float]) -> list[float]:
    """Round class limits for the map: at most _SCALE_STEPS classes of equal width."""
    low, high = min(values), max(values)
    if high == low:
        return [low, high]
    step = _nice_step((high - low) / _SCALE_STEPS)
    start = math.floor(low / step + 1e-9) * step
    edges = [start]
    while edges[-1] < high - 1e-12:
        edges.append(round(start + len(edges) * step, 12))
    return edges


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _county_map(figure: Figure) -> ET.Element:
    column = figure.column(figure.chart.columns[0])
    index = [each.key for each in figure.columns].index(column.key)
    values = {
        COUNTY_LETTERS[row.key]: row.cells[index].value
        for row in figure.rows
        if row.key in COUNTY_LETTERS and row.cells[index].value is not None
    }
    edges = _breaks(list(values.values())) if values else []
    classes_count = max(1, len(edges) - 1)
    steps = [
        round(i * (_SCALE_STEPS - 1) / (classes_count - 1)) if classes_count > 1 else 3
        for i in range(classes_count)
    ]

    def scale_class(value: float) -> str:
        position = 0
        while position < classes_count - 1 and value >= edges[position + 1] - 1e-12:
            position += 1
        return f"scale-{steps[position]}"

    # A län in the figure without a value: suppressed (fewer than 5 homes) or nothing to count.
    area_classes = {
        COUNTY_LETTERS[row.key]: "suppressed" for row in figure.rows if row.key in COUNTY_LETTERS
    }
    area_classes.update({letter: scale_class(value) for letter, value in values.items()})
    chart = CountyMap(
        area_classes=area_classes,
        **_PYGAL,
        width=_MAP_WIDTH,
        height=_MAP_HEIGHT,
        show_legend=False,
        margin=8,
        margin_right=_MAP_LEGEND_WIDTH,
    )
    chart.add(column.label, {})
    svg = chart.render_tree()
    _clean(svg, ["blue"])
    hatch = f"stats-hatch-{figure.key}"
    defs = ET.Element("defs")
    pattern = ET.SubElement(
        defs,
        "pattern",
        {
            "id": hatch,
            "width": "6",
            "height": "6",
            "patternUnits": "userSpaceOnUse",
            "patternTransform": "rotate(45)",
            "class": "hatch",
        },
    )
    ET.SubElement(pattern, "rect", {"width": "6", "height": "6", "class": "hatch-ground"})
    ET.SubElement(pattern, "path", {"d": "M0 0 V6", "class": "hatch-line"})
    defs.set("aria-hidden", "true")
    svg.insert(0, defs)
    # The pattern is referenced from a presentation attribute (no style="" under the CSP); the
    # path's own attribute wins over the fill it would inherit from charts.css.
    for area in svg.iter("g"):
        if "suppressed" in area.get("class", "").split():
            for path in area:
                path.set("fill", f"url(#{hatch})")
    legend = ET.SubElement(
        svg,
        "g",
        {
            "class": "map-legend",
            "transform": f"translate({_MAP_WIDTH - _MAP_LEGEND_WIDTH + 16}, 40)",
            "aria-hidden": "true",
        },
    )
    title = ET.SubElement(legend, "text", {"x": "0", "y": "0", "class": "map-legend-title"})
    for number, line in enumerate(_wrap(column.label, 24)):
        ET.SubElement(title, "tspan", {"x": "0", "dy": "0" if number == 0 else "1.2em"}).text = line
    legend_top = 24 * len(_wrap(column.label, 24))
    keys: list[tuple[str, str]] = []
    if values:
        for position in range(classes_count):
            keys.append(
                (
                    f"scale-{steps[position]}",
                    _range_label(column, edges[position], edges[min(position + 1, len(edges) - 1)]),
                )
            )
    keys.reverse()  # the darkest (highest) first, as in most maps' keys
    if "suppressed" in area_classes.values():
        keys.append(("suppressed", gettext("– färre än 5 boenden")))
    for position, (css_class, label) in enumerate(keys):
        y = legend_top + position * 36
        swatch = ET.SubElement(
            legend,
            "rect",
            {"x": "0", "y": str(y), "width": "36", "height": "24", "class": f"swatch {css_class}"},
        )
        if css_class == "suppressed":
            swatch.set("fill", f"url(#{hatch})")
        text = ET.SubElement(legend, "text", {"x": "46", "y": str(y + 19)})
        text.text = label
    svg.set("class", "stats-chart stats-chart--map")
    return svg
