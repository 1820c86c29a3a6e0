"""The open data catalogue in DCAT-AP-SE, as RDF/XML, for dataportal.se to harvest.

Every resource has an absolute IRI (no blank nodes: dataportal.se's harvester merges on IRIs),
and the publisher is the organisation's IRI on dataportal.se, built from its
organisationsnummer: ``http://dataportal.se/organisation/SE<orgnr>``.
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from api.opendata import (
    DATASETS,
    FORMATS,
    STATISTICS_DESCRIPTION,
    STATISTICS_FORMATS,
    STATISTICS_TITLE,
    statistics_files,
)

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
THEME = URIRef("http://publications.europa.eu/resource/authority/data-theme/SOCI")
MEDIA_TYPE = "https://www.iana.org/assignments/media-types/"
EU_FILE_TYPES = {"csv": "CSV", "json": "JSON", "xlsx": "XLSX"}
MEDIA_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def base_url(request: HttpRequest) -> str:
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")


def catalogue_graph(request: HttpRequest) -> Graph:
    base = base_url(request)
    graph = Graph()
    graph.bind("dcat", DCAT)
    graph.bind("dcterms", DCTERMS)
    graph.bind("foaf", FOAF)
    graph.bind("vcard", VCARD)

    publisher = URIRef(
        f"http://dataportal.se/organisation/SE{settings.OPEN_DATA_PUBLISHER_ORGANISATION_NUMBER}"
    )
    graph.add((publisher, RDF.type, FOAF.Organization))
    graph.add((publisher, FOAF.name, Literal(settings.OPEN_DATA_PUBLISHER_NAME, lang="sv")))

    contact = URIRef(f"{base}/oppna-data/#kontakt")
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Literal(settings.OPEN_DATA_PUBLISHER_NAME, lang="sv")))
    graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{settings.OPEN_DATA_CONTACT_EMAIL}")))

    licence = URIRef(settings.OPEN_DATA_LICENSE_URL)
    catalogue = URIRef(f"{base}/datasets/dcat")
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add((catalogue, DCTERMS.title, Literal("HVB-registret – öppna data", lang="sv")))
    graph.add(
        (
            catalogue,
            DCTERMS.description,
            Literal(
                "Den offentliga delen av IVO:s register över HVB, stödboenden och särskilda "
                "ungdomshem och IVO:s tillsyn av dem.",
                lang="sv",
            ),
        )
    )
    graph.add((catalogue, DCTERMS.publisher, publisher))
    graph.add((catalogue, DCTERMS.license, licence))
    graph.add((catalogue, FOAF.homepage, URIRef(f"{base}/oppna-data/")))
    graph.add(
        (
            catalogue,
            DCTERMS.language,
            URIRef("http://publications.europa.eu/resource/authority/language/SWE"),
        )
    )

    def dataset_node(slug: str, title: str, description: str) -> URIRef:
        node = URIRef(f"{base}/oppna-data/#{slug}")
        graph.add((catalogue, DCAT.dataset, node))
        graph.add((node, RDF.type, DCAT.Dataset))
        graph.add((node, DCTERMS.title, Literal(title, lang="sv")))
        graph.add((node, DCTERMS.description, Literal(description, lang="sv")))
        graph.add((node, DCTERMS.publisher, publisher))
        graph.add((node, DCAT.contactPoint, contact))
        graph.add((node, DCAT.theme, THEME))
        graph.add((node, DCAT.landingPage, URIRef(f"{base}/oppna-data/")))
        return node

    def add_distribution(node: URIRef, slug: str, title: str, file_format: str) -> None:
        download = URIRef(f"{base}/oppna-data/{slug}.{file_format}")
        distribution = URIRef(f"{base}/oppna-data/{slug}.{file_format}#distribution")
        graph.add((node, DCAT.distribution, distribution))
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add(
            (distribution, DCTERMS.title, Literal(f"{title} ({file_format.upper()})", lang="sv"))
        )
        graph.add((distribution, DCAT.accessURL, download))
        graph.add((distribution, DCAT.downloadURL, download))
        graph.add((distribution, DCTERMS.license, licence))
        graph.add((distribution, DCTERMS["format"], URIRef(FILE_TYPE + EU_FILE_TYPES[file_format])))
        graph.add((distribution, DCAT.mediaType, URIRef(MEDIA_TYPE + MEDIA_TYPES[file_format])))

    for dataset in DATASETS.values():
        node = dataset_node(dataset.slug, str(dataset.title), str(dataset.description))
        for file_format in FORMATS:
            add_distribution(node, dataset.slug, str(dataset.title), file_format)

    # The statistics: one dataset, a CSV and a JSON file per figure. Titles and descriptions
    # only, never a number from the figures (a count there could include protected homes).
    node = dataset_node("statistik", str(STATISTICS_TITLE), str(STATISTICS_DESCRIPTION))
    for item in statistics_files(timezone.localdate()):
        for file_format in STATISTICS_FORMATS:
            add_distribution(node, item.slug, item.title, file_format)
    return graph


def catalogue_rdfxml(request: HttpRequest) -> str:
    # Every literal is tagged Swedish: written in Swedish whatever language the visitor chose.
    with translation.override("sv"):
        return catalogue_graph(request).serialize(format="pretty-xml")
