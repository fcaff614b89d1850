"""What each OAI-PMH error code means (§3.6) and what to do about it, in plain words."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Explanation:
    title: str
    #: what the code means, after the table of §3.6
    meaning: str
    #: what a person trying the endpoint can do next
    advice: str


EXPLANATIONS: dict[str, Explanation] = {
    "badVerb": Explanation(
        "Not an OAI-PMH verb",
        "The verb argument is missing, repeated, or not one of the six verbs of OAI-PMH.",
        "Choose one of Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords "
        "or GetRecord (the names are case-sensitive).",
    ),
    "badArgument": Explanation(
        "The arguments do not fit the verb",
        "The request has an argument its verb does not take, lacks one it requires, repeats "
        "one, or an argument's value has the wrong form.",
        "Check the message above. GetRecord needs identifier and metadataPrefix; "
        "ListIdentifiers and ListRecords need metadataPrefix (or only a resumptionToken); "
        "dates are YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, both with the same granularity.",
    ),
    "badResumptionToken": Explanation(
        "The resumption token cannot be used",
        "The resumptionToken is invalid or has expired.",
        "Start the list again from its first page, without a resumptionToken; tokens are "
        "used as given, and each expires on the date shown with it.",
    ),
    "cannotDisseminateFormat": Explanation(
        "Not available in this format",
        "The metadata format named by metadataPrefix is not supported by this repository, "
        "or not by this record.",
        "ListMetadataFormats names the formats of the repository; with an identifier, the "
        "formats of that record.",
    ),
    "idDoesNotExist": Explanation(
        "No such record",
        "The identifier is unknown or illegal in this repository.",
        "Identifiers have the form of the sampleIdentifier in Identify; ListIdentifiers "
        "lists them all.",
    ),
    "noRecordsMatch": Explanation(
        "No records match",
        "This combination of from, until, set and metadataPrefix gives an empty list.",
        "Widen the dates, leave out the set, or try another metadata format.",
    ),
    "noMetadataFormats": Explanation(
        "No formats for this record",
        "There are no metadata formats available for this record.",
        "Try again later, or ask ListMetadataFormats without an identifier.",
    ),
    "noSetHierarchy": Explanation(
        "No sets",
        "This repository does not organise its records in sets.",
        "Leave out the set argument.",
    ),
}

UNKNOWN = Explanation(
    "An error",
    "The repository reported an error code that OAI-PMH 2.0 does not define.",
    "Read the message above, or ask the repository's administrator (see Identify).",
)


def explain(code: str) -> Explanation:
    return EXPLANATIONS.get(code, UNKNOWN)
