"""Offline schema validation of OAI-PMH responses (§3.2, §3.2.1, §3.4).

Each response is checked in two passes. The envelope is validated against OAI-PMH.xsd
with the strict wildcards of ``metadata``, ``about``, ``description`` and
``setDescription`` relaxed to lax in memory (one compile cannot hold every format that
may sit in them). Then every child of those containers is validated strictly on its own
against the schema of its namespace, when that schema is in ``schemas/`` (the OAI family,
Dublin Core and xml.xsd); any other namespace is reported as not checked, not as an
error: the validator cannot know every format of every repository. Nothing is fetched
from the network: ``schemas/catalog.json`` maps the official URLs to local files.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XS_NS = "http://www.w3.org/2001/XMLSchema"
RIGHTS_NS = "http://www.openarchives.org/OAI/2.0/rights/"
OAI_PMH_XSD = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
MAX_MESSAGES = 5  # per response: enough to act on, short enough to read

# The rights namespace has two root schemas; the element's local name picks one.
_ROOT_SCHEMAS = {
    (RIGHTS_NS, "rightsManifest"): "http://www.openarchives.org/OAI/2.0/rightsManifest.xsd",
}
_EMBEDDED = (
    "/oai:OAI-PMH/*/oai:record/oai:metadata/* | /oai:OAI-PMH/*/oai:record/oai:about/*"
    " | /oai:OAI-PMH/oai:Identify/oai:description/*"
    " | /oai:OAI-PMH/oai:ListSets/oai:set/oai:setDescription/*"
)


@dataclass
class Validation:
    """What one response's schema check found."""

    root: etree._Element | None = None
    #: not UTF-8, not well-formed, or invalid against OAI-PMH.xsd
    envelope: list[str] = field(default_factory=list)
    #: invalid metadata/about/description payloads, against their own schemas
    payload: list[str] = field(default_factory=list)
    #: payload namespaces with no schema here (not an error)
    not_checked: set[str] = field(default_factory=set)
    checked: set[str] = field(default_factory=set)

    @property
    def well_formed(self) -> bool:
        return self.root is not None


@functools.cache
def _catalog() -> tuple[dict[str, Path], dict[str, str]]:
    data = json.loads((SCHEMA_DIR / "catalog.json").read_text(encoding="utf-8"))
    urls = {url: SCHEMA_DIR / rel for url, rel in data["urls"].items()}
    return urls, dict(data["namespaces"])


class _Offline(etree.Resolver):
    """Official schema URLs (http or https) come from the package; nothing else loads."""

    def resolve(self, system_url, public_id, context):
        path = _catalog()[0].get(system_url or "")
        return self.resolve_filename(str(path), context) if path else None


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, remove_comments=True)
    parser.resolvers.add(_Offline())
    return parser


@functools.cache
def _envelope_schema() -> etree.XMLSchema:
    doc = etree.parse(str(_catalog()[0][OAI_PMH_XSD]), _parser())
    for wildcard in doc.iter(f"{{{XS_NS}}}any"):
        if wildcard.get("processContents") == "strict":
            wildcard.set("processContents", "lax")
    return etree.XMLSchema(doc)


@functools.cache
def _target_namespace(url: str) -> str | None:
    path = _catalog()[0].get(url)
    return etree.parse(str(path)).getroot().get("targetNamespace") if path else None


@functools.cache
def _compiled(imports: tuple[tuple[str, str], ...]) -> etree.XMLSchema:
    """A driver schema importing each (namespace, URL) pair: root first, nested after."""
    driver = etree.Element(f"{{{XS_NS}}}schema", nsmap={"xs": XS_NS})
    for namespace, url in imports:
        etree.SubElement(driver, f"{{{XS_NS}}}import", namespace=namespace, schemaLocation=url)
    doc = etree.fromstring(
        etree.tostring(driver), _parser(), base_url=(SCHEMA_DIR / "driver.xsd").as_uri()
    )
    return etree.XMLSchema(doc)


def schema_url(element: etree._Element) -> str | None:
    """The local schema for a payload root: by name, by its own hint, or by namespace."""
    qname = etree.QName(element)
    namespace = qname.namespace or ""
    if (namespace, qname.localname) in _ROOT_SCHEMAS:
        return _ROOT_SCHEMAS[(namespace, qname.localname)]
    hints = (element.get(f"{{{XSI_NS}}}schemaLocation") or "").split()
    for ns, url in zip(hints[::2], hints[1::2], strict=False):
        if ns == namespace and url in _catalog()[0] and _target_namespace(url) == namespace:
            return url
    return _catalog()[1].get(namespace)


def _messages(log, label: str) -> list[str]:
    found = [f"line {entry.line}: [{label}] {entry.message}" for entry in log]
    if len(found) > MAX_MESSAGES:
        found = found[:MAX_MESSAGES] + [f"… and {len(found) - MAX_MESSAGES} more"]
    return found


def _validate_payload(element: etree._Element, result: Validation) -> None:
    namespace = etree.QName(element).namespace
    if namespace is None:
        return  # the envelope pass already reports an unqualified payload
    url = schema_url(element)
    if url is None:
        result.not_checked.add(namespace)
        return
    result.checked.add(namespace)
    imports = [(namespace, url)]
    seen = {namespace, OAI_NS}
    for node in element.iter(etree.Element):
        nested = etree.QName(node).namespace
        if nested and nested not in seen:
            seen.add(nested)
            nested_url = _catalog()[1].get(nested)
            if nested_url is None:
                result.not_checked.add(nested)
            else:
                imports.append((nested, nested_url))
    schema = _compiled(tuple(imports))
    standalone = copy.deepcopy(element)
    if not schema.validate(standalone):
        label = f"{etree.QName(element).localname} ({url.rsplit('/', 1)[-1]})"
        result.payload.extend(_messages(schema.error_log, label))


def validate(body: bytes) -> Validation:
    """Parse and validate one response body; never raises on what a server sends."""
    result = Validation()
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.envelope.append(f"not UTF-8 (§3.2): {exc}")
        return result
    parser = etree.XMLParser(
        no_network=True, resolve_entities=False, load_dtd=False, huge_tree=True
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        result.envelope.append(f"not well-formed XML (§3.2): {exc}")
        return result
    result.root = root
    declared = (root.getroottree().docinfo.encoding or "").upper().replace("_", "-")
    if declared not in ("UTF-8", "UTF8"):
        result.envelope.append(f"the XML declaration names {declared!r}, not UTF-8 (§3.2)")
    entity = next(root.iter(etree.Entity), None)
    if entity is not None:  # left unexpanded on purpose (no XXE); libxml2's XSD code fails on it
        result.envelope.append(
            f"entity reference {entity.text} in the response: a harvester must not expand "
            "entities from a server (§3.2 asks for plain XML)"
        )
        return result
    schema = _envelope_schema()
    if not schema.validate(root.getroottree()):
        result.envelope.extend(_messages(schema.error_log, "OAI-PMH.xsd"))
        return result  # payloads of a broken envelope are not worth a second opinion
    for element in root.xpath(_EMBEDDED, namespaces={"oai": OAI_NS}):
        _validate_payload(element, result)
    return result
