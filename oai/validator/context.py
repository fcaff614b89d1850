"""What the checks share: the bounded client, what was learnt so far, and every page seen.

Probing checks fetch through :meth:`Context.fetch`, which validates each response and
keeps what later summary checks need (response dates, header datestamps, schema
findings, HTTP details) without keeping whole documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from lxml import etree

from oai.validator.http import ACCEPT_ENCODING, BudgetExhausted, Client, Params, Response
from oai.validator.model import Evidence, Result, Status, clip
from oai.validator.schema import OAI_NS, Validation, validate

NS = {"oai": OAI_NS}
DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"
DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SECONDS_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
OAI_DC = "oai_dc"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_XSD = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
XSI_SCHEMA_LOCATION = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"

#: "normal": a request a harvester makes; "error": one that is meant to fail
Purpose = Literal["normal", "error"]


def parse_datestamp(text: str | None) -> tuple[datetime, str] | None:
    """A UTCdatetime (§3.3) and its granularity, or None if it is neither form."""
    text = (text or "").strip()
    try:
        if SECONDS_RE.fullmatch(text):
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ"), SECONDS
        if DAY_RE.fullmatch(text):
            return datetime.strptime(text, "%Y-%m-%d"), DAY
    except ValueError:
        return None
    return None


def format_datestamp(value: datetime, granularity: str) -> str:
    return value.strftime("%Y-%m-%d" if granularity == DAY else "%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Header:
    identifier: str
    datestamp: str
    deleted: bool
    sets: tuple[str, ...]
    url: str


@dataclass(frozen=True)
class Token:
    """A resumptionToken element (§3.5): its text and optional attributes as sent."""

    text: str
    cursor: str | None
    size: str | None
    expiration: str | None


@dataclass
class Page:
    """One response, parsed: the checks read the OAI-PMH structure from here."""

    response: Response
    validation: Validation
    params: Params

    @property
    def url(self) -> str:
        return self.response.url

    @property
    def root(self) -> etree._Element | None:
        return self.validation.root

    @property
    def ok(self) -> bool:
        return self.response.status == 200 and self.root is not None

    def find(self, path: str) -> etree._Element | None:
        return None if self.root is None else self.root.find(path, NS)

    def findall(self, path: str) -> list[etree._Element]:
        return [] if self.root is None else self.root.findall(path, NS)

    def text(self, path: str) -> str | None:
        element = self.find(path)
        return None if element is None else (element.text or "").strip()

    @property
    def errors(self) -> list[str]:
        return [error.get("code") or "" for error in self.findall("oai:error")]

    def verb_element(self, verb: str) -> etree._Element | None:
        return self.find(f"oai:{verb}")

    def token(self, verb: str) -> Token | None:
        element = self.find(f"oai:{verb}/oai:resumptionToken")
        if element is None:
            return None
        return Token(
            (element.text or "").strip(),
            element.get("cursor"),
            element.get("completeListSize"),
            element.get("expirationDate"),
        )

    def headers(self) -> list[Header]:
        found = []
        for header in self.findall("*/oai:header") + self.findall("*/oai:record/oai:header"):
            found.append(
                Header(
                    (header.findtext("oai:identifier", "", NS) or "").strip(),
                    (header.findtext("oai:datestamp", "", NS) or "").strip(),
                    header.get("status") == "deleted",
                    tuple((s.text or "").strip() for s in header.findall("oai:setSpec", NS)),
                    self.url,
                )
            )
        return found

    def evidence(self, note: str = "") -> Evidence:
        """The request and an excerpt: ``note`` if given, else the start of the body."""
        if note:
            return Evidence(self.url, clip(note))
        if self.response.error:
            return Evidence(self.url, clip(self.response.error))
        if not self.ok:
            status = f"HTTP {self.response.status} {self.response.content_type}".strip()
            return Evidence(self.url, clip(f"{status}: {self.response.excerpt()}"))
        return Evidence(self.url, clip(self._summary()))

    def _summary(self) -> str:
        """The answer's gist: its error elements, or its verb element and token."""
        errors = self.findall("oai:error")
        if errors:
            return " ".join(
                f'<error code="{e.get("code")}">{(e.text or "").strip()}</error>' for e in errors
            )
        date = self.text("oai:responseDate")
        gist = f"responseDate {date}; {self.describe()}"
        token = next(iter(self.findall("*/oai:resumptionToken")), None)
        if token is not None:
            attributes = " ".join(f'{k}="{v}"' for k, v in token.attrib.items())
            state = "empty" if not (token.text or "").strip() else "with a token"
            gist += f"; resumptionToken {attributes} ({state})"
        return gist

    def describe(self) -> str:
        """What kind of answer this is, in a few words, for a failure message."""
        if self.response.error:
            return self.response.error
        if self.response.status != 200:
            return f"HTTP {self.response.status} ({self.response.content_type or 'no type'})"
        if self.root is None:
            return "a body that is not well-formed XML"
        if self.errors:
            return "error " + ", ".join(self.errors)
        third = [child for child in self.root if isinstance(child.tag, str)][2:3]
        return f"<{etree.QName(third[0]).localname}>" if third else "an empty OAI-PMH element"


@dataclass(frozen=True)
class Identity:
    """What Identify declared (§4.2), with safe defaults when it could not be read."""

    granularity: str = DAY
    earliest: str | None = None
    compression: tuple[str, ...] = ()
    deleted_record: str | None = None
    base_url: str | None = None


@dataclass
class Seen:
    """What summary checks need from every page, kept small."""

    response_dates: list[tuple[str, str]] = field(default_factory=list)
    headers: list[Header] = field(default_factory=list)
    schema: list[tuple[str, Validation]] = field(default_factory=list)
    echo: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)  # normal purpose only


class Context:
    def __init__(self, client: Client, now: Callable[[], datetime] | None = None) -> None:
        self.client = client
        self.now = now or (lambda: datetime.now(UTC).replace(tzinfo=None))
        self.identity = Identity()
        self.identify_page: Page | None = None
        self.formats: dict[str, tuple[str, str]] | None = None  # prefix -> (schema, ns)
        self.sets_supported: bool | None = None
        self.set_specs: list[str] = []
        self.seen = Seen()
        self.cache: dict[str, object] = {}

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def fetch(
        self,
        params: Params,
        *,
        purpose: Purpose = "normal",
        accept_encoding: str = ACCEPT_ENCODING,
    ) -> Page:
        response = self.client.get(params, accept_encoding=accept_encoding)
        validation = validate(response.body) if response.status == 200 else Validation()
        page = Page(response, validation, params)
        if purpose == "normal":
            self._remember(page)
        return page

    def _remember(self, page: Page) -> None:
        seen = self.seen
        seen.responses.append(page.response)
        slim = Validation(
            envelope=page.validation.envelope,
            payload=page.validation.payload,
            not_checked=page.validation.not_checked,
            checked=page.validation.checked,
        )
        if page.response.status == 200:
            seen.schema.append((page.url, slim))
        if page.root is None:
            return
        date = page.text("oai:responseDate")
        if date is not None:
            seen.response_dates.append((page.url, date))
        seen.headers.extend(page.headers())
        request = page.find("oai:request")
        if request is not None and not page.errors:
            seen.echo.append((page.url, dict(page.params), dict(request.attrib)))

    def sample(self) -> list[Header]:
        """The headers of the first ListIdentifiers page in oai_dc (one request, once)."""
        if "sample" not in self.cache:
            page = self.fetch([("verb", "ListIdentifiers"), ("metadataPrefix", OAI_DC)])
            self.cache["sample"] = page.headers() if page.ok else []
            self.cache["sample_page"] = page
        return self.cache["sample"]  # type: ignore[return-value]

    def sample_page(self) -> Page:
        self.sample()
        return self.cache["sample_page"]  # type: ignore[return-value]

    def future(self) -> str:
        """A datestamp ten years ahead, at the repository's granularity."""
        return format_datestamp(self.now() + timedelta(days=3653), self.identity.granularity)


@dataclass
class Outcome:
    status: Status
    message: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    partial: bool = False


def passed(message: str, *evidence: Evidence, partial: bool = False) -> Outcome:
    return Outcome("pass", message, list(evidence), partial)


def failed(message: str, *evidence: Evidence) -> Outcome:
    return Outcome("fail", message, list(evidence))


def warned(message: str, *evidence: Evidence) -> Outcome:
    return Outcome("warn", message, list(evidence))


def skipped(message: str, *evidence: Evidence) -> Outcome:
    return Outcome("skip", message, list(evidence))


Phase = Literal["probe", "summary"]


@dataclass(frozen=True)
class Check:
    """One rule: probes run first in module order, summaries after every probe."""

    id: str
    title: str
    section: str
    run: Callable[[Context], Outcome]
    phase: Phase = "probe"

    def __call__(self, ctx: Context) -> Result:
        try:
            outcome = self.run(ctx)
        except BudgetExhausted:
            outcome = skipped(
                f"not run: the budget of {ctx.client.max_requests} requests was spent first"
            )
        return Result(
            self.id,
            self.title,
            self.section,
            outcome.status,
            outcome.message,
            outcome.evidence[:5],
            outcome.partial,
        )


def check(
    id: str, title: str, section: str, phase: Phase = "probe"
) -> Callable[[Callable[[Context], Outcome]], Check]:
    def register(run: Callable[[Context], Outcome]) -> Check:
        return Check(id, title, section, run, phase)

    return register


def expect_error(page: Page, codes: tuple[str, ...], *, echo: bool) -> Outcome:
    """The answer to a request that must fail: HTTP 200, valid XML, the error code(s).

    ``echo`` False: badVerb/badArgument answers must not echo the arguments (§3.2).
    """
    if page.response.status != 200 or page.root is None:
        return failed(
            f"expected an OAI-PMH error {' or '.join(codes)} with HTTP 200 (§3.1.2.2), "
            f"got {page.describe()}",
            page.evidence(),
        )
    if page.validation.envelope:
        return failed(
            "the error response is not valid OAI-PMH", page.evidence(page.validation.envelope[0])
        )
    got = page.errors
    if not any(code in codes for code in got):
        return failed(
            f"expected error {' or '.join(codes)}, got {page.describe()}", page.evidence()
        )
    request = page.find("oai:request")
    if not echo and request is not None and request.attrib:
        return failed(
            "a badVerb/badArgument answer must not echo the request's arguments (§3.2): "
            f"<request> has {sorted(request.attrib)}",
            page.evidence(),
        )
    return passed(f"answered {', '.join(got)}", page.evidence())
