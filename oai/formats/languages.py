"""Language codes per format (metadata.md §6): BCP 47 in, ISO 639-2/B or 639-3 out."""

from __future__ import annotations

import functools
import unicodedata

# ISO 639-1 → (ISO 639-2/B, ISO 639-3). 639-3 equals 639-2/T for these languages.
_CODES: dict[str, tuple[str, str]] = {
    "af": ("afr", "afr"),
    "ar": ("ara", "ara"),
    "az": ("aze", "aze"),
    "be": ("bel", "bel"),
    "bg": ("bul", "bul"),
    "bn": ("ben", "ben"),
    "bs": ("bos", "bos"),
    "ca": ("cat", "cat"),
    "cs": ("cze", "ces"),
    "cy": ("wel", "cym"),
    "da": ("dan", "dan"),
    "de": ("ger", "deu"),
    "el": ("gre", "ell"),
    "en": ("eng", "eng"),
    "eo": ("epo", "epo"),
    "es": ("spa", "spa"),
    "et": ("est", "est"),
    "eu": ("baq", "eus"),
    "fa": ("per", "fas"),
    "fi": ("fin", "fin"),
    "fr": ("fre", "fra"),
    "ga": ("gle", "gle"),
    "gl": ("glg", "glg"),
    "he": ("heb", "heb"),
    "hi": ("hin", "hin"),
    "hr": ("hrv", "hrv"),
    "hu": ("hun", "hun"),
    "hy": ("arm", "hye"),
    "id": ("ind", "ind"),
    "is": ("ice", "isl"),
    "it": ("ita", "ita"),
    "ja": ("jpn", "jpn"),
    "ka": ("geo", "kat"),
    "kk": ("kaz", "kaz"),
    "ko": ("kor", "kor"),
    "ky": ("kir", "kir"),
    "la": ("lat", "lat"),
    "lt": ("lit", "lit"),
    "lv": ("lav", "lav"),
    "mk": ("mac", "mkd"),
    "mn": ("mon", "mon"),
    "ms": ("may", "msa"),
    "mt": ("mlt", "mlt"),
    "nb": ("nob", "nob"),
    "nl": ("dut", "nld"),
    "nn": ("nno", "nno"),
    "no": ("nor", "nor"),
    "pl": ("pol", "pol"),
    "pt": ("por", "por"),
    "ro": ("rum", "ron"),
    "ru": ("rus", "rus"),
    "sk": ("slo", "slk"),
    "sl": ("slv", "slv"),
    "sq": ("alb", "sqi"),
    "sr": ("srp", "srp"),
    "sv": ("swe", "swe"),
    "sw": ("swa", "swa"),
    "ta": ("tam", "tam"),
    "tg": ("tgk", "tgk"),
    "th": ("tha", "tha"),
    "tk": ("tuk", "tuk"),
    "tr": ("tur", "tur"),
    "uk": ("ukr", "ukr"),
    "ur": ("urd", "urd"),
    "uz": ("uzb", "uzb"),
    "vi": ("vie", "vie"),
    "zh": ("chi", "zho"),
}


def _primary(tag: str) -> str:
    return tag.split("-")[0].lower()


def iso639_3(tag: str) -> str:
    """OpenAIRE/DRIVER best practice for dc:language; unknown tags pass through."""
    primary = _primary(tag)
    if len(primary) == 3:
        return primary
    return _CODES.get(primary, (primary, primary))[1]


def iso639_2b(tag: str) -> str:
    """MARC 008/041 and MODS iso639-2b; unknown two-letter tags pass through."""
    primary = _primary(tag)
    if len(primary) == 3:
        return primary
    return _CODES.get(primary, (primary, primary))[0]


@functools.lru_cache(maxsize=4096)
def script_of(char: str) -> str:
    """The Unicode script word a letter's name starts with (LATIN, CYRILLIC, CJK …).

    Cached: the formats ask it for every letter of titles and abstracts, and a record's
    text repeats the same few dozen letters.
    """
    if char < "\x80":
        return "LATIN"
    return unicodedata.name(char, "").split(" ")[0]


# Scripts (first word of a letter's Unicode name) by ISO 639-1 code; the rest use Latin.
LANGUAGE_SCRIPTS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("ru", "uk", "be", "bg", "mk", "kk", "ky", "tg", "mn"), ("CYRILLIC",)),
    **dict.fromkeys(("sr", "uz", "az", "tk"), ("CYRILLIC", "LATIN")),
    **dict.fromkeys(("ar", "fa", "ur"), ("ARABIC",)),
    **dict.fromkeys(("hi", "mr", "ne"), ("DEVANAGARI",)),
    "el": ("GREEK",),
    "he": ("HEBREW",),
    "ka": ("GEORGIAN",),
    "hy": ("ARMENIAN",),
    "th": ("THAI",),
    "bn": ("BENGALI",),
    "ta": ("TAMIL",),
    "zh": ("CJK",),
    "ja": ("CJK", "HIRAGANA", "KATAKANA"),
    "ko": ("HANGUL", "CJK"),
}
# BCP 47 script subtags that name the script outright (sr-Latn, uz-Cyrl).
SUBTAG_SCRIPTS = {"latn": "LATIN", "cyrl": "CYRILLIC", "arab": "ARABIC", "grek": "GREEK"}


def language_scripts(tag: str) -> tuple[str, ...]:
    """The scripts text in language ``tag`` (BCP 47) is written in."""
    subtags = tag.lower().split("-")
    for subtag in subtags[1:]:
        if subtag in SUBTAG_SCRIPTS:
            return (SUBTAG_SCRIPTS[subtag],)
    return LANGUAGE_SCRIPTS.get(subtags[0], ("LATIN",))
