"""The statistics' charts (stats/charts.py): SVG that the site's CSP lets through, one image for a
screen reader, and never a suppressed value. Figures are built by hand: no database."""

from xml.etree import ElementTree as ET

import pytest
from django.utils import translation

from stats import charts
from stats.figures import Cell, Chart, Column, Figure, Row

# A value behind a suppressed cell: distinctive enough that it cannot be an axis tick.
SECRET_COUNT = 7319
SECRET_SHARE = 0.9137
# Anywhere in the SVG, coordinates included.
SECRET_NUMBERS = ("7319", "7 319", "7\xa0319", "0.9137", "0,9137", "91.37", "91,37")
# Anywhere a reader could see it: in a text, a label, a class, any attribute but the geometry.
SECRET_TEXTS = (*SECRET_NUMBERS, "7,3", "7.3", "91", "92")
GEOMETRY = {"d", "points", "x", "y", "cx", "cy", "r", "width", "height", "transform", "viewBox"}


def _cell(value, suppressed=False):
    return Cell(value, homes=3 if suppressed else 20, base=40, suppressed=suppressed)


def _by_year(kind, columns, values, *, key="decisions-by-outcome"):
    rows = [
        Row(
            year,
            year,
            [_cell(*value) if isinstance(value, tuple) else _cell(value) for value in row],
        )
        for year, row in zip(("2021", "2022", "2023", "2024"), values, strict=True)
    ]
    return Figure(
        key=key,
        title="Beslut per år",
        row_heading="År",
        columns=columns,
        rows=rows,
        chart=Chart(kind, tuple(column.key for column in columns)),
    )


def counts_figure(kind, secret=SECRET_COUNT):
    """Three series of counts, the 2022 "Förbud" suppressed."""
    columns = [
        Column("vite", "Föreläggande med vite", "count"),
        Column("forbud", "Förbud", "count"),
        Column("aterkallelse", "Återkallelse av tillstånd", "count"),
    ]
    values = [
        [12, 6, 3],
        [15, (secret, True), 4],
        [18, 7, 5],
        [14, 8, 6],
    ]
    return _by_year(kind, columns, values)


def shares_figure(kind="line", secret=SECRET_SHARE):
    """Two series of shares, one suppressed (a value None with suppressed, as compute gives)."""
    columns = [Column("hvb", "HVB", "share", "inspektioner"), Column("sis", "SiS", "share")]
    values = [[0.27, 0.4], [0.31, (secret, True)], [0.25, 0.35], [0.3, (None, True)]]
    return _by_year(kind, columns, values, key="inspections-with-deficiencies")


COUNTIES = tuple(charts.COUNTY_LETTERS)


def map_figure(*, suppressed=("09",), key="inspection-frequency-by-county", secret=SECRET_SHARE):
    rows = [Row("total", "Hela landet", [_cell(0.6)])]
    for number, code in enumerate(COUNTIES):
        if code in suppressed:
            rows.append(Row(code, f"Län {code}", [_cell(secret, suppressed=True)]))
        else:
            rows.append(Row(code, f"Län {code}", [_cell(0.3 + number * 0.02)]))
    return Figure(
        key=key,
        title="Frekvenstillsyn per län",
        row_heading="Län",
        columns=[Column("share", "Andel inspekterade inom 12 månader", "share", "boenden")],
        rows=rows,
        chart=Chart("map", ("share",)),
    )


def hbar_figure(secret=SECRET_SHARE):
    areas = ["Våld och kränkningar", "Kompetens och bemanning", "Föreståndaren"]
    rows = [Row(str(i), area, [_cell(0.1 * (i + 1))]) for i, area in enumerate(areas)]
    rows[1].cells[0] = _cell(secret, suppressed=True)
    return Figure(
        key="deficiencies-by-area",
        title="Brister per granskat område",
        row_heading="Område",
        columns=[Column("share", "Andel inspektioner med brist", "share")],
        rows=rows,
        chart=Chart("hbar", ("share",)),
    )


EVERY_KIND = {
    "line": lambda **secret: counts_figure("line", **secret),
    "bar": lambda **secret: counts_figure("bar", **secret),
    "stacked": lambda **secret: counts_figure("stacked", **secret),
    "hbar": hbar_figure,
    "map": map_figure,
    "shares": shares_figure,
}


def _tree(svg: str) -> ET.Element:
    """The SVG parsed, its tags without the SVG namespace ("rect", not "{...svg}rect")."""
    root = ET.fromstring(svg)
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]
    return root


def _texts(root: ET.Element) -> list[str]:
    return ["".join(element.itertext()) for element in root.iter("text")]


def _classes(element: ET.Element) -> list[str]:
    return element.get("class", "").split()


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_chart__has_nothing_the_content_security_policy_forbids(kind):
    svg = charts.render(EVERY_KIND[kind]())

    root = _tree(svg)
    tags = {element.tag for element in root.iter()}
    assert "script" not in tags
    assert "style" not in tags
    assert [element.tag for element in root.iter() if "style" in element.attrib] == []
    assert "<script" not in svg and "<style" not in svg and "style=" not in svg
    # No pygal tooltip or per-value texts left behind either.
    assert not tags & {"desc", "title"}
    assert "tooltip" not in svg


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_chart__is_one_image_named_by_its_title(kind):
    figure = EVERY_KIND[kind]()

    root = _tree(charts.render(figure))

    assert root.tag == "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == (
        f"{figure.title}. Samma siffror finns i tabellen under diagrammet."
    )
    assert [child.get("aria-hidden") for child in root] == ["true"] * len(root)
    # It scales to its box: a viewBox, no fixed size.
    assert root.get("viewBox")
    assert "width" not in root.attrib and "height" not in root.attrib


def test_chart__same_figure_draws_the_same_svg():
    # No random ids: two charts on one page cannot clash, and pages can be compared.
    assert charts.render(counts_figure("bar")) == charts.render(counts_figure("bar"))
    assert ' id="' not in charts.render(counts_figure("line"))


def test_chart__drawn_again_when_a_number_changes():
    figure = counts_figure("bar")
    before = charts.render(figure)

    figure.rows[0].cells[0] = _cell(40)

    assert charts.render(figure) != before


def test_chart__drawn_again_in_another_language():
    with translation.override("sv"):
        swedish = charts.render(shares_figure())
    with translation.override("en"):
        english = charts.render(shares_figure())

    assert "20 %" in swedish
    assert "20%" in english


@pytest.mark.parametrize("kind", ["line", "bar", "stacked"])
def test_chart__legend_names_every_series(kind):
    texts = _texts(_tree(charts.render(counts_figure(kind))))

    for label in ("Föreläggande med vite", "Förbud", "Återkallelse av tillstånd"):
        assert label in texts


def test_chart__every_row_is_an_axis_label():
    texts = _texts(_tree(charts.render(counts_figure("bar"))))

    assert {"2021", "2022", "2023", "2024"} <= set(texts)


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_suppressed_cell__its_value_is_nowhere_in_the_svg(kind):
    svg = charts.render(EVERY_KIND[kind]())

    for number in SECRET_NUMBERS:
        assert number not in svg
    root = _tree(svg)
    readable = [
        *root.itertext(),
        *(
            value
            for element in root.iter()
            for name, value in element.attrib.items()
            if name not in GEOMETRY
        ),
    ]
    for text in SECRET_TEXTS:
        assert not [each for each in readable if text in each]


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_suppressed_cell__whatever_its_value_the_chart_is_the_same(kind):
    # Not in a text, and not in a bar's height or a point's place either.
    assert charts.render(EVERY_KIND[kind]()) == charts.render(EVERY_KIND[kind](secret=1))


def test_suppressed_cell__is_a_gap_in_its_line():
    root = _tree(charts.render(counts_figure("line")))

    forbud = [
        series
        for series in root.iter("g")
        if "serie-1" in _classes(series) and series.find("g") is not None
    ]
    markers = [marker for series in forbud for dots in series.findall("g") for marker in dots]
    assert len(markers) == 3  # four years, one suppressed


def test_suppressed_cell__draws_no_bar():
    root = _tree(charts.render(counts_figure("bar")))

    bars = [
        bar
        for series in root.iter("g")
        if "serie-1" in _classes(series)
        for bar in series.iter("rect")
    ]
    assert len(bars) == 3


def test_line_series__differ_in_marker_shape_and_legend_key():
    root = _tree(charts.render(counts_figure("line")))

    shapes = []
    for index in range(3):
        series = next(
            g
            for g in root.iter("g")
            if f"serie-{index}" in _classes(g)
            and "series" in _classes(g)
            and g.find("g") is not None
        )
        shapes.append({marker.tag for dots in series.findall("g") for marker in dots})
    assert shapes == [{"circle"}, {"rect"}, {"polygon"}]
    keys = [g for g in root.iter("g") if "legend-key" in _classes(g)]
    assert [_classes(key)[1] for key in keys] == ["serie-0", "serie-1", "serie-2"]


def test_stacked_series__go_from_light_to_dark():
    root = _tree(charts.render(counts_figure("stacked")))

    colours = []
    for index in range(3):
        series = next(g for g in root.iter("g") if f"serie-{index}" in _classes(g))
        colours.append(next(name for name in _classes(series) if name.startswith("c-")))
    assert colours == ["c-yellow", "c-skyblue", "c-blue"]


def test_share_axis__swedish_percent_has_a_space():
    with translation.override("sv"):
        texts = _texts(_tree(charts.render(shares_figure())))

    assert "20 %" in texts
    assert "0,2" not in texts


def test_share_axis__english_percent_has_no_space():
    with translation.override("en"):
        root = _tree(charts.render(shares_figure()))

    assert "20%" in _texts(root)
    assert "20 %" not in _texts(root)
    assert root.get("aria-label").startswith("Beslut per år. ")


def test_count_axis__thousands_grouped_in_swedish():
    figure = counts_figure("stacked")
    for row in figure.rows:
        row.cells[0] = _cell(2400)

    with translation.override("sv"):
        texts = _texts(_tree(charts.render(figure)))

    assert "2\xa0000" in texts or "2 000" in texts


def _county_areas(root):
    return [g for g in root.iter("g") if "lan" in _classes(g) and "map-element" in _classes(g)]


def test_map__draws_every_county_once():
    root = _tree(charts.render(map_figure(suppressed=())))

    areas = _county_areas(root)
    assert len(areas) == 21
    assert len({_classes(area)[0] for area in areas}) == 21
    assert all(any(name.startswith("scale-") for name in _classes(area)) for area in areas)


def test_map__suppressed_county_is_hatched_and_has_no_value():
    svg = charts.render(map_figure(suppressed=("09", "23")))
    root = _tree(svg)

    suppressed = [area for area in _county_areas(root) if "suppressed" in _classes(area)]
    # Gotland (I) and Jämtland (Z), by their länsbokstav.
    assert sorted(_classes(area)[0] for area in suppressed) == ["sI", "sZ"]
    for area in suppressed:
        assert [path.get("fill") for path in area] == [
            "url(#stats-hatch-inspection-frequency-by-county)"
        ]
        assert not any(name.startswith("scale-") for name in _classes(area))
    assert root.find(".//pattern").get("id") == "stats-hatch-inspection-frequency-by-county"
    assert "– färre än 5 boenden" in _texts(root)


def test_map__darker_for_a_higher_value():
    root = _tree(charts.render(map_figure(suppressed=())))

    by_letter = {
        _classes(area)[0]: next(n for n in _classes(area) if n.startswith("scale-"))
        for area in _county_areas(root)
    }
    # Values rise with the länskod: Stockholm (01) lowest, Norrbotten (25) highest.
    assert by_letter["sAB"] == "scale-0"
    assert by_letter["sBD"] == "scale-5"


def test_map__legend_gives_the_classes_in_percent():
    with translation.override("en"):
        texts = _texts(_tree(charts.render(map_figure(suppressed=()))))

    assert "30–40%" in texts


def test_map__every_county_suppressed_still_draws_the_map():
    root = _tree(charts.render(map_figure(suppressed=COUNTIES)))

    areas = _county_areas(root)
    assert len(areas) == 21
    assert all("suppressed" in _classes(area) for area in areas)


def test_map_shapes__parsed_once():
    charts.render(map_figure())
    charts.render(map_figure())

    assert charts._county_shapes.cache_info().misses <= 1


def test_clean__takes_out_style_attributes_pygal_may_add():
    # pygal 3.1 puts style="" only on the tooltip, which goes whole; other versions or chart
    # kinds may put it elsewhere (its maps do), and the CSP would block the chart's styling.
    svg = ET.fromstring(
        '<svg><g class="series color-0 reactive" style="opacity: 0">'
        '<path d="M0 0" style="fill-opacity: 0.5" /></g></svg>'
    )

    charts._clean(svg, ["blue"])

    assert [element.attrib.get("style") for element in svg.iter()] == [None, None, None]
    assert svg.find("g").get("class") == "series c-blue"


def test_suppressed_row__shows_a_dash_where_its_bar_would_be():
    root = _tree(charts.render(hbar_figure()))

    guides = [g for g in root.iter("g") if _classes(g) == ["guides"] and "–" in _texts(g)]
    assert [_texts(g)[0] for g in guides] == ["Kompetens och bemanning"]


def test_partly_suppressed_row__has_no_dash():
    # 2022's "Förbud" is suppressed but its other bars are drawn: the gap shows it.
    assert "–" not in _texts(_tree(charts.render(counts_figure("bar"))))


def _translate_x(element: ET.Element) -> float:
    transform = element.get("transform", "translate(0, 0)")
    return float(transform.removeprefix("translate(").split(",")[0])


def test_legend__spread_over_the_whole_width_beside_long_row_labels():
    columns = [Column(key, key.capitalize(), "share") for key in ("enskild", "kommunal", "statlig")]
    labels = ["Uppföljning av tidigare beslut", "Barn och ungas upplevelse", "Dokumentation"]
    figure = Figure(
        key="deficiencies-by-ownership",
        title="Brister efter regi",
        row_heading="Område",
        columns=columns,
        rows=[
            Row(str(i), label, [_cell(0.1), _cell(0.2), _cell(0.3)])
            for i, label in enumerate(labels)
        ],
        chart=Chart("hbar", tuple(column.key for column in columns)),
    )

    root = _tree(charts.render(figure))

    legends = next(g for g in root.iter("g") if _classes(g) == ["legends"])
    starts = [
        _translate_x(legends) + _translate_x(legend) + float(legend.find("rect").get("x"))
        for legend in legends
    ]
    # Three columns a third of the width apart: "Kommunal" has room before "Statlig".
    assert len(starts) == 3
    assert starts[1] - starts[0] >= 200 and starts[2] - starts[1] >= 200


def test_map__filtered_to_one_county_leaves_the_others_blank_not_suppressed():
    figure = map_figure(suppressed=())
    figure.rows = [row for row in figure.rows if row.key == "08"]

    root = _tree(charts.render(figure))

    classes = {_classes(area)[0]: _classes(area)[-1] for area in _county_areas(root)}
    assert classes.pop("sH").startswith("scale-")
    assert set(classes.values()) == {"outside"}
    assert "– färre än 5 boenden" not in _texts(root)


@pytest.mark.parametrize("kind", ["bar", "map"])
def test_chart__labels_from_the_register_are_escaped(kind):
    figure = EVERY_KIND[kind]()
    figure.title = 'Brister <script>alert("x")</script> & krav'
    figure.rows[-1].label = "<b>Län</b>"
    figure.columns[0] = Column(figure.columns[0].key, "<i>serie</i>", figure.columns[0].kind)

    svg = charts.render(figure)

    assert "<script" not in svg and "<b>" not in svg and "<i>" not in svg
    assert _tree(svg).get("aria-label").startswith('Brister <script>alert("x")</script> & krav.')
