"""What kind of addition a passage is: interview turn, boilerplate, credit, byline, caption.

Each kind is recognised by its form, which outlets share across languages of
markup and CMS: speaker turns ("Editor:", "Dr. Tran:", "Q:"), web furniture
("You may also like", "Leave a Comment"), credit lines ("(Sources: AFP;
Reuters)", "Reporting by ...; Editing by ..."), bylines ("by time news", a name
and an e-mail address) and photo captions ("... Alex Wong/Getty Images/AFP").

:func:`label_passage` returns the label and the strength of that evidence
(0..1) that the passage is an outlet's own addition rather than wire copy.
"""

from __future__ import annotations

import re

__all__ = ["LABEL_EVIDENCE", "is_interview_heading", "is_speaker_turn", "label_passage"]

# How surely each form marks an addition (combined with alignment evidence).
LABEL_EVIDENCE = {
    "interview": 0.9,
    "boilerplate": 0.95,
    "attribution": 0.8,
    "byline": 0.85,
    "caption": 0.8,
}

_NAME = r"[A-Z][\w'\u2019.-]*"
_SPEAKER = re.compile(
    rf"^\s*(?:Q|A|Question|Answer|Interviewer|Editor|Host|Moderator|Reporter"
    rf"|(?:Dr|Prof|Mr|Mrs|Ms|Sir|Dame)\.?\s+{_NAME}(?:\s+{_NAME}){{0,2}}"
    rf"|{_NAME}(?:\s+{_NAME}){{0,2}}\s+\((?:[^)]{{1,40}})\))"
    rf"\s*[:\u2014-]\s+\S",
)
_AGENCY = r"AP|Reuters|AFP|dpa|PA|ANSA|EFE|Xinhua|Bloomberg|UPI|Kyodo|Yonhap|TASS|BTA|Associated Press"
_DATELINE = re.compile(rf"^\s*[A-Z][\w.' -]{{0,60}}?\((?:{_AGENCY})\)\s*[:\u2013\u2014-]", re.IGNORECASE)
_GENERIC_SPEAKER = re.compile(rf"^\s*{_NAME}(?:\s+{_NAME}){{0,2}}:\s+\S")
_INTERVIEW_HEADING = re.compile(
    r"^\s*(?:\W{0,3})(?:(?:exclusive|an?)\s+)?(?:interview|q\s*&\s*a|in conversation)\b"
    r"(?:\s+(?:between|with)\b)?",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"^\s*(?:you may also like|you might also like|related(?: articles| stories| posts)?:?$|read more\b|"
    r"recommended(?: for you)?$|leave a (?:comment|reply)|share (?:this|on)\b|subscribe\b|sign up\b|"
    r"follow (?:us|@|[\w.' ]{1,40} on (?:social media|twitter|x|facebook|instagram|linkedin))\b|"
    r"click here\b|advertisement$|trending now$|more from\b|most read$|"
    r"comments?$|tags?:|copyright\b|\u00a9|all rights reserved|[^\n]{0,60}all rights reserved\.?$|"
    r"this (?:article|story) (?:was|has been) (?:originally )?published\b|"
    r"(?:our|the) newsletter\b|we use cookies\b|download (?:our|the) app\b|"
    r"a link has been (?:sent|posted)\b|join the conversation\b|to find out more about facebook commenting\b|"
    r"(?:email|e-mail) this (?:article|story)\b|print this (?:article|story|page)\b)",
    re.IGNORECASE,
)
_CREDIT_WORDS = r"sources?|additional reporting|reporting|writing|editing|compiled|contributing|with reporting"
_ATTRIBUTION = re.compile(
    rf"^\s*\(\s*(?:{_CREDIT_WORDS})\b[^)]{{0,200}}\)\s*$"
    rf"|^\s*(?:{_CREDIT_WORDS})\s*(?:by\b|:)"
    r"|\b(?:contributed to this report|(?:editing|reporting|writing) by\b)"
    r"|^\s*\((?:AFP|AP|Reuters|dpa|PA|ANSA|EFE|Xinhua|Bloomberg)(?:[;,/ ]+\w+){0,4}\)\s*$",
    re.IGNORECASE,
)
# Substrings every match of the pattern contains: a cheap test before the regex.
_ATTRIBUTION_HINTS = ("source", "report", "writ", "edit", "compiled", "contribut", "(")
_CAPTION_HINTS = ("photo", "image", "picture", "caption", "getty", "shutterstock", "/", "epa")
# Whether one of the hints occurs in the lowered text, in one scan of it (``any(h in lowered ...)`` exactly).
_ATTRIBUTION_HINT = re.compile("|".join(map(re.escape, _ATTRIBUTION_HINTS)))
_CAPTION_HINT = re.compile("|".join(map(re.escape, _CAPTION_HINTS)))
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_BYLINE = re.compile(
    r"^\s*(?:by|written by|words by)\s+[\w .,'&-]{2,60}$"  # by time news
    r"|^\s*[A-Z]{2,8},\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+){1,2}\s*$",  # TDT, Anna Price
)
_CAPTION = re.compile(
    r"(?:^\s*(?:photo|photograph|picture|image|file photo|caption|pictured)\s*[:|(-])"
    r"|(?:\b(?:photo|image|picture)\s*(?:credit)?\s*:\s*\S)"
    r"|\b(?:Getty Images|Shutterstock|AP Photo|EPA-EFE|AFP Photo|Reuters/|/Reuters|/AFP|/AP\b|/EPA|/Getty)"
    r"|\((?:photo|image|picture)\b[^)]{0,80}\)",
    re.IGNORECASE,
)


def is_speaker_turn(text: str) -> bool:
    """A Q&A turn: 'Editor: ...', 'Dr. Tran: ...', 'Q: ...', 'Jane Doe (analyst): ...'; not a wire
    dateline ('HELSINKI (AP) — ...', 'LONDON, March 3 (Reuters) -')."""
    return bool(_SPEAKER.match(text)) and not _DATELINE.match(text)


def is_interview_heading(text: str) -> bool:
    """'Interview between X and Y', 'Q&A with ...' (a short line)."""
    return len(text) <= 200 and bool(_INTERVIEW_HEADING.match(text))


def label_passage(text: str, *, generic_turn: bool = False) -> str | None:
    """The label of one passage by its form, or None.

    ``generic_turn`` accepts any 'Name Name: ...' opening as a speaker turn
    (used once the surrounding passages already look like an interview).
    """
    stripped = text.strip()
    if is_speaker_turn(stripped) or is_interview_heading(stripped):
        return "interview"
    if generic_turn and _GENERIC_SPEAKER.match(stripped):
        return "interview"
    if len(stripped) > 1000:  # longer than any caption or credit line
        return None
    words = len(stripped.split())
    if words <= 30 and _BOILERPLATE.match(stripped):
        return "boilerplate"
    if words <= 12 and (_EMAIL.search(stripped) or _BYLINE.match(stripped)):
        return "byline"
    lowered = stripped.lower()
    if words <= 60 and _ATTRIBUTION_HINT.search(lowered) and _ATTRIBUTION.search(stripped):
        return "attribution"
    if words <= 80 and _CAPTION_HINT.search(lowered) and _CAPTION.search(stripped):
        return "caption"
    return None
