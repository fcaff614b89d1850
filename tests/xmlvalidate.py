"""Offline XML Schema validation of whole OAI-PMH responses (test helper).

``validate_oai_response(xml)`` checks a response in three passes and raises one
``AssertionError`` that lists every problem found:

1. the bytes are well-formed XML in UTF-8;
2. the envelope is valid against OAI-PMH.xsd, loaded from the kit and with the
   ``processContents="strict"`` wildcards of ``<metadata>``, ``<about>``,
   ``<description>`` and ``<setDescription>`` relaxed to ``lax`` in memory (a single
   compile cannot hold every embedded format: some of them clash in one namespace);
3. every element inside those containers is validated strictly, on its own, against
   the schema of its namespace, and every ``xsi:schemaLocation`` in the document names
   only the namespace of the element carrying it.

``validate_element(element)`` runs pass 3 on one standalone element (crosswalk tests).

JATS is the one payload without a namespace (oai/formats/jats.py, README "JATS"): a
``<metadata>`` whose child is a no-namespace ``<article>`` is allowed in pass 2 (the
metadata wildcard is widened to ``##any`` for that response, nothing else changes), and
in pass 3 that ``<article>`` is validated against the JATS 1.1 Journal Publishing DTD
(``tests/schemas/jats/publishing-1.1``) as a harvester extracts it: on its own, without
the ``xmlns=""`` that undeclared the envelope's default namespace (the DTD declares no
``xmlns`` attribute). Any other unqualified payload still fails.

Everything is resolved from the schema kit in ``tests/schemas`` (see its README.md and
SOURCES.md) through ``catalog.json``: official schema URLs, http and https, map to local
files, and nothing is ever fetched from the network. Compiled schemas are cached for the
life of the process.

How the schema of an embedded element is chosen:

* ``(namespace, local name)`` overrides come first: the rights namespace holds two
  schemas, ``rights.xsd`` (root ``<rights>``) and ``rightsManifest.xsd`` (root
  ``<rightsManifest>``, which includes rights.xsd);
* then the element's own ``xsi:schemaLocation`` hint, when the kit has that URL and the
  file's targetNamespace is the element's namespace (e.g. MODS 3.7 vs 3.8);
* then the namespace's default schema from ``catalog.json``.

Nested content in other namespaces (e.g. an ``oai_dc:dc`` inside a
``rights:rightsDefinition``, which rights.xsd also declares as a strict wildcard) is
validated in the same pass: the compiled schema imports the schema of every namespace
used in the subtree that the root's own schema does not already import. Namespaces the
root schema imports itself keep the root schema's copy (OpenAIRE ships its own ``dc.xsd``
and ``datacite-v4.xsd``, which must win over simpledc and kernel-4 inside
``oaire:resource``).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

__all__ = [
    "OAI_NS",
    "SCHEMA_DIR",
    "schema_url_for",
    "validate_element",
    "validate_oai_response",
]

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
JATS_DTD = SCHEMA_DIR / "jats" / "publishing-1.1" / "JATS-journalpublishing1.dtd"

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
RIGHTS_NS = "http://www.openarchives.org/OAI/2.0/rights/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XS_NS = "http://www.w3.org/2001/XMLSchema"

_OAI_PMH_XSD = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
_XSI_SCHEMA_LOCATION = f"{{{XSI_NS}}}schemaLocation"
_XSI_NO_NS_SCHEMA_LOCATION = f"{{{XSI_NS}}}noNamespaceSchemaLocation"

# A namespace with several schemas: the root element's local name decides.
_ROOT_SCHEMAS: dict[tuple[str, str], str] = {
    (RIGHTS_NS, "rights"): "http://www.openarchives.org/OAI/2.0/rights.xsd",
    (RIGHTS_NS, "rightsManifest"): "http://www.openarchives.org/OAI/2.0/rightsManifest.xsd",
}

# The envelope containers whose children are validated against their own schemas.
_EMBEDDED_XPATH = " | ".join(
    [
        "/oai:OAI-PMH/*/oai:record/oai:metadata/*",
        "/oai:OAI-PMH/*/oai:record/oai:about/*",
        "/oai:OAI-PMH/oai:Identify/oai:description/*",
        "/oai:OAI-PMH/oai:ListSets/oai:set/oai:setDescription/*",
    ]
)


# --------------------------------------------------------------------------- catalog


@functools.cache
def _catalog() -> tuple[dict[str, Path], dict[str, str]]:
    """(official URL -> local file, namespace -> default schema URL) from catalog.json."""
    data = json.loads((SCHEMA_DIR / "catalog.json").read_text(encoding="utf-8"))
    urls = {url: SCHEMA_DIR / rel for url, rel in data["urls"].items()}
    namespaces = {ns: entry["schema"] for ns, entry in data["namespaces"].items()}
    for url in [*_ROOT_SCHEMAS.values(), *namespaces.values()]:
        if url not in urls:  # a broken kit should fail loudly, not fetch
            raise RuntimeError(f"schema kit: {url} has no local file in catalog.json")
    return urls, namespaces


def _local_file(url: str) -> Path | None:
    urls, _ = _catalog()
    return urls.get(url)


class _OfflineResolver(etree.Resolver):
    """Serve official schema URLs (http and https) from the local kit."""

    def resolve(self, system_url, public_id, context):
        path = _local_file(system_url) if system_url else None
        if path is not None:
            return self.resolve_filename(str(path), context)
        return None  # relative files load normally; anything remote fails (no_network)


def _schema_parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, remove_comments=True)
    parser.resolvers.add(_OfflineResolver())
    return parser


# --------------------------------------------------------------------------- schemas


@functools.cache
def _envelope_schema(unqualified_metadata: bool = False) -> etree.XMLSchema:
    """OAI-PMH.xsd with its strict ``##other`` wildcards relaxed to lax (in memory only).

    ``unqualified_metadata`` also lets ``<metadata>`` hold a no-namespace element (a
    JATS ``<article>``, which pass 3 then checks against the JATS DTD).
    """
    path = _local_file(_OAI_PMH_XSD)
    doc = etree.parse(str(path), _schema_parser())
    relaxed = 0
    for wildcard in doc.iter(f"{{{XS_NS}}}any"):
        if wildcard.get("processContents") == "strict":
            wildcard.set("processContents", "lax")
            relaxed += 1
    if relaxed != 3:  # metadataType, aboutType, descriptionType
        raise RuntimeError(f"OAI-PMH.xsd: expected 3 strict wildcards, relaxed {relaxed}")
    if unqualified_metadata:
        wildcards = doc.xpath(
            "/xs:schema/xs:complexType[@name='metadataType']/xs:sequence/xs:any",
            namespaces={"xs": XS_NS},
        )
        if len(wildcards) != 1:
            raise RuntimeError("OAI-PMH.xsd: metadataType has no single wildcard")
        wildcards[0].set("namespace", "##any")
    return etree.XMLSchema(doc)


@functools.cache
def _jats_dtd() -> etree.DTD:
    """The JATS 1.1 Journal Publishing DTD; its modules load relative to it, offline."""
    return etree.DTD(str(JATS_DTD))


@functools.cache
def _schema_info(url: str) -> tuple[str | None, frozenset[str]]:
    """(targetNamespace, every namespace the schema at ``url`` brings in transitively).

    Only imports/includes that carry a schemaLocation the kit can serve are followed,
    which is exactly what libxml2 will load when compiling it offline.
    """
    start = _local_file(url)
    if start is None:
        return None, frozenset()
    target = etree.parse(str(start)).getroot().get("targetNamespace")
    seen: set[Path] = set()
    namespaces: set[str] = set()
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        root = etree.parse(str(path)).getroot()
        namespaces.add(root.get("targetNamespace") or "")
        for ref in root.iterchildren(
            f"{{{XS_NS}}}import", f"{{{XS_NS}}}include", f"{{{XS_NS}}}redefine"
        ):
            location = ref.get("schemaLocation")
            if not location:
                continue
            if urlsplit(location).scheme in ("http", "https"):
                nested = _local_file(location)
            else:
                nested = path.parent / location
            if nested is not None:
                todo.append(nested.resolve())
    namespaces.discard("")
    return target, frozenset(namespaces)


@functools.cache
def _compiled(imports: tuple[tuple[str, str], ...]) -> etree.XMLSchema:
    """One schema importing ``(namespace, schema URL)`` pairs, first one first."""
    driver = etree.Element(f"{{{XS_NS}}}schema", nsmap={"xs": XS_NS})
    for namespace, url in imports:
        etree.SubElement(driver, f"{{{XS_NS}}}import", namespace=namespace, schemaLocation=url)
    doc = etree.fromstring(
        etree.tostring(driver),
        _schema_parser(),
        base_url=(SCHEMA_DIR / "_driver.xsd").as_uri(),
    )
    return etree.XMLSchema(doc)


def _hinted_url(element: etree._Element, namespace: str) -> str | None:
    tokens = (element.get(_XSI_SCHEMA_LOCATION) or "").split()
    for ns, url in zip(tokens[::2], tokens[1::2], strict=False):
        if ns == namespace and _local_file(url) is not None:
            if _schema_info(url)[0] == namespace:
                return url
    return None


def schema_url_for(namespace: str, local_name: str | None = None, element=None) -> str | None:
    """The official URL of the kit schema used for a root element, or None if none."""
    if local_name is not None and (namespace, local_name) in _ROOT_SCHEMAS:
        return _ROOT_SCHEMAS[(namespace, local_name)]
    if element is not None:
        hinted = _hinted_url(element, namespace)
        if hinted is not None:
            return hinted
    return _catalog()[1].get(namespace)


# --------------------------------------------------------------------------- reporting


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: int | None, path: str, message: str) -> None:
        where = f"line {line}" if line else "line ?"
        self.lines.append(f"{where}: {path}: {message}")

    def raise_if_any(self, what: str) -> None:
        if self.lines:
            count = len(self.lines)
            noun = "error" if count == 1 else "errors"
            body = "\n".join(f"  - {line}" for line in self.lines)
            raise AssertionError(f"{what} is not valid ({count} {noun}):\n{body}")


def _step(element: etree._Element) -> str:
    qname = etree.QName(element)
    name = f"{element.prefix}:{qname.localname}" if element.prefix else qname.localname
    parent = element.getparent()
    if parent is None:
        return name
    same = [sibling for sibling in parent.iterchildren(element.tag)]
    return f"{name}[{same.index(element) + 1}]" if len(same) > 1 else name


def _path(element: etree._Element) -> str:
    steps = [_step(node) for node in [*reversed(list(element.iterancestors())), element]]
    return "/" + "/".join(steps)


def _node_at(start: etree._Element, libxml2_path: str) -> etree._Element | None:
    """Find the element a libxml2 error path (as built by xmlGetNodePath) points at.

    libxml2 writes ``prefix:name[n]`` for prefixed elements (n counts same-name siblings)
    and ``*[n]`` for elements in a default namespace (n counts all element siblings);
    ``start`` is the element the path's first step names.
    """
    steps = libxml2_path.strip("/").split("/")
    node = start
    for step in steps[1:]:
        name, _, index = step.partition("[")
        position = int(index.rstrip("]")) if index else 1
        if name == "*":
            candidates = list(node.iterchildren(etree.Element))
        else:
            prefix, _, local = name.rpartition(":")
            candidates = [
                child
                for child in node.iterchildren(etree.Element)
                if etree.QName(child).localname == local and (child.prefix or "") == prefix
            ]
        if len(candidates) < position:
            return None
        node = candidates[position - 1]
    return node


def _report_log(problems: _Problems, log, start: etree._Element, label: str) -> None:
    """Add schema errors, each with a readable path to the element it is about."""
    for entry in log:
        node = _node_at(start, entry.path) if entry.path else None
        path = _path(node) if node is not None else (entry.path or _path(start))
        problems.add(entry.line, path, f"[{label}] {entry.message}")


# --------------------------------------------------------------------------- checks


def _is_jats(element: etree._Element) -> bool:
    """A JATS payload: an ``<article>`` in no namespace (JATS has none)."""
    return element.tag == "article"


def _in_metadata(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is not None and parent.tag == f"{{{OAI_NS}}}metadata"


def _validate_jats(element: etree._Element, problems: _Problems) -> None:
    """Validate a JATS ``<article>`` against the DTD, detached as a harvester would take it.

    The copy drops namespace declarations nothing uses, which removes the ``xmlns=""``
    that kept the article out of the envelope's default namespace; the DTD declares
    ``xmlns:xlink`` and ``xmlns:ali`` but not ``xmlns``.
    """
    standalone = copy.deepcopy(element)
    etree.cleanup_namespaces(standalone)
    dtd = _jats_dtd()
    if not dtd.validate(standalone):
        label = JATS_DTD.name
        for entry in dtd.error_log.filter_from_errors():
            problems.add(
                entry.line or element.sourceline, _path(element), f"[{label}] {entry.message}"
            )


def _check_schema_locations(root: etree._Element, problems: _Problems) -> None:
    """Every xsi:schemaLocation names only its own element's namespace, and a schema of it."""
    for element in root.iter(etree.Element):
        namespace = etree.QName(element).namespace
        if element.get(_XSI_NO_NS_SCHEMA_LOCATION) is not None and namespace:
            problems.add(
                element.sourceline,
                _path(element),
                f"xsi:noNamespaceSchemaLocation on an element in namespace {namespace}",
            )
        value = element.get(_XSI_SCHEMA_LOCATION)
        if value is None:
            continue
        tokens = value.split()
        if not tokens or len(tokens) % 2:
            problems.add(
                element.sourceline,
                _path(element),
                f"xsi:schemaLocation must be namespace/URL pairs, got {value!r}",
            )
            continue
        for ns, url in zip(tokens[::2], tokens[1::2], strict=True):
            if ns != namespace:
                problems.add(
                    element.sourceline,
                    _path(element),
                    f"xsi:schemaLocation names namespace {ns} ({url}) "
                    f"but the element is in namespace {namespace}",
                )
                continue
            if _local_file(url) is not None:
                target = _schema_info(url)[0]
                if target != ns:
                    problems.add(
                        element.sourceline,
                        _path(element),
                        f"xsi:schemaLocation points namespace {ns} at {url}, "
                        f"whose targetNamespace is {target}",
                    )


def _validate_embedded(
    element: etree._Element,
    problems: _Problems,
    namespace: str | None = None,
) -> None:
    """Strictly validate ``element`` (and everything below it) against its own schema."""
    path = _path(element)
    own_ns = etree.QName(element).namespace
    namespace = namespace or own_ns
    if not namespace:
        problems.add(element.sourceline, path, "element has no namespace, so no schema")
        return
    if namespace == OAI_NS:
        problems.add(
            element.sourceline,
            path,
            "element in the OAI-PMH namespace where content of another namespace belongs",
        )
        return
    url = schema_url_for(namespace, etree.QName(element).localname, element)
    if url is None:
        problems.add(
            element.sourceline,
            path,
            f"no schema in the kit for namespace {namespace} "
            f"(element {etree.QName(element).localname})",
        )
        return

    # Nested elements in namespaces the root schema does not import itself (e.g. oai_dc
    # inside rights:rightsDefinition) get their default schema imported alongside it.
    imports = [(namespace, url)]
    covered = set(_schema_info(url)[1]) | {namespace, OAI_NS}
    _, defaults = _catalog()
    extra: dict[str, str] = {}
    for node in element.iter(etree.Element):
        ns = etree.QName(node).namespace
        if ns and ns not in covered and ns not in extra and ns in defaults:
            extra[ns] = defaults[ns]
    for ns in sorted(extra):
        if ns not in covered:
            imports.append((ns, extra[ns]))
            covered |= _schema_info(extra[ns])[1]

    label = _local_file(url).name
    schema = _compiled(tuple(imports))
    if not schema.validate(element):
        _report_log(problems, schema.error_log, element, label)


# --------------------------------------------------------------------------- public API


def validate_oai_response(xml: bytes) -> etree._ElementTree:
    """Validate a whole OAI-PMH response; return its parsed tree or raise AssertionError.

    Checks: well-formed UTF-8 XML; the envelope against OAI-PMH.xsd (containers lax);
    each child of ``metadata``/``about``/``description``/``setDescription`` strictly
    against its namespace's schema; every xsi:schemaLocation names its own namespace.
    """
    if isinstance(xml, str):
        raise TypeError("validate_oai_response() needs the response bytes, not str")
    xml = bytes(xml)
    problems = _Problems()
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(None, "/", f"not UTF-8: {exc}")
        problems.raise_if_any("OAI-PMH response")

    parser = etree.XMLParser(
        no_network=True, resolve_entities=False, load_dtd=False, huge_tree=True
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        for entry in parser.error_log.filter_from_errors():
            problems.add(entry.line, "/", f"not well-formed: {entry.message}")
        if not problems.lines:
            problems.add(exc.lineno, "/", f"not well-formed: {exc.msg}")
        problems.raise_if_any("OAI-PMH response")
    tree = root.getroottree()
    encoding = (tree.docinfo.encoding or "").upper().replace("_", "-")
    if encoding not in ("UTF-8", "UTF8"):
        problems.add(None, "/", f"encoding must be UTF-8, the document declares {encoding!r}")

    embedded = root.xpath(_EMBEDDED_XPATH, namespaces={"oai": OAI_NS})
    jats = {element for element in embedded if _is_jats(element) and _in_metadata(element)}
    envelope = _envelope_schema(unqualified_metadata=bool(jats))
    if not envelope.validate(tree):
        _report_log(problems, envelope.error_log, root, "OAI-PMH.xsd")

    for element in embedded:
        if element in jats:
            _validate_jats(element, problems)
        else:
            _validate_embedded(element, problems)

    _check_schema_locations(root, problems)
    problems.raise_if_any("OAI-PMH response")
    return tree


def validate_element(element, namespace: str | None = None):
    """Strictly validate one standalone element against its namespace's schema.

    ``element`` is an lxml element or tree (or XML bytes); ``namespace`` overrides the
    namespace used to pick the schema (default: the element's own). Returns the element;
    raises AssertionError listing every error.
    """
    if isinstance(element, bytes | bytearray):
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        element = etree.fromstring(bytes(element), parser)
    elif isinstance(element, etree._ElementTree):
        element = element.getroot()
    problems = _Problems()
    if namespace is None and _is_jats(element):
        _validate_jats(element, problems)
    else:
        _validate_embedded(element, problems, namespace)
    _check_schema_locations(element, problems)
    problems.raise_if_any(f"<{etree.QName(element).localname}> element")
    return element
