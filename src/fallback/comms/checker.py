"""The checker: what a notice gets wrong about the five laws of bad news, before it is sent.

Pure functions over the notice's words (after its variables are filled) and the situation
(which routes are down, which channels it goes on). Each finding names the part it is
about. Findings block sending until the words are fixed, or a person who may send notices
acknowledges them — except the ones a customer would see as a mistake in the message itself
(an unknown or empty variable), which must be fixed.

The five laws: Notify (say what happened, at once), Explain (honestly, in plain words),
Solve (the alternative, and how to reach us now), Predict (what happens next, and when
the next update comes), Apologise (once, briefly).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fallback.comms.rendering import PART_LABELS, PARTS, VARIABLES, render, short_text

MIN_WORDS = 3  # a law needs at least this much substance
EMAIL_MAX_WORDS = 250  # more than this is far longer than needed
SMS_MAX_SEGMENTS = 3
FIRST_PHASES = ("first_notice", "update")  # these promise the next update

WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
APOLOGY = re.compile(
    r"\b(sorry|apologi[sz](?:e|es|ed|ing)|apolog(?:y|ies)|regret(?:s|ted|ful|fully|table)?"
    r"|forgive|pardon)\b",
    re.IGNORECASE,
)
PHONE = re.compile(r"(?<![\w/])\+?\(?\d[\d\s().-]{5,}\d(?![\w/])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PLACEHOLDER = re.compile(r"\[[^\[\]\n]{3,}\]")  # "[the cause, in plain words]"
NEXT_UPDATE = re.compile(
    r"\b(next update|update you|update again|further update|another update|hear from us"
    r"|write again|be in touch|get back to you)\b",
    re.IGNORECASE,
)
TIME_WORDS = re.compile(
    r"(\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|\b\d{1,2}[:.]\d{2}\b|\b(?:today|tonight|tomorrow"
    r"|morning|afternoon|evening|noon|midday|midnight|monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday|hour|hours|minutes)\b)",
    re.IGNORECASE,
)

# GSM 03.38: the characters an SMS carries at 7 bits; the extension ones take two.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€")

WHAT_EACH_LAW_NEEDS = {
    "notify": "say plainly what has happened and that it affects them",
    "explain": "say honestly, in plain words, what went wrong and since when",
    "solve": "give the alternative, and how to reach you now",
    "predict": "say what happens next, and when the next update comes",
    "apologise": "say sorry, once and briefly",
}


@dataclass(frozen=True)
class Situation:
    """What the checker needs to know besides the words."""

    phase: str = "first_notice"
    channels: Sequence[str] = ("email",)
    email_down: bool = False
    phone_down: bool = False
    usual_email: str = ""
    usual_phone: str = ""
    backup_email: str = ""
    reply_to: str = ""


@dataclass(frozen=True)
class Finding:
    code: str
    part: str  # subject, one of PARTS, or "message" for the whole
    message: str
    must_fix: bool = False  # cannot be acknowledged away
    detail: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return f"{self.code}:{self.part}" + (f":{self.detail}" if self.detail else "")

    @property
    def part_label(self) -> str:
        return PART_LABELS.get(self.part, "Whole message")


def words(text: str) -> list[str]:
    return WORD.findall(text)


def apologies(text: str) -> list[str]:
    return [m.group(0) for m in APOLOGY.finditer(text)]


def sms_segments(text: str) -> int:
    """How many SMS the text takes: 160 characters in one (153 each when split) in the GSM
    alphabet, 70 (67) when any character needs Unicode."""
    if not text:
        return 0
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        length = sum(2 if c in GSM_EXTENDED else 1 for c in text)
        return 1 if length <= 160 else -(-length // 153)
    length = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    return 1 if length <= 70 else -(-length // 67)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _phones(text: str) -> list[str]:
    return [p for p in PHONE.findall(text) if len(_digits(p)) >= 7]


def _other_email(text: str, situation: Situation) -> bool:
    """An email address in `text` that does not go through the usual (down) mail."""
    usual = _domain(situation.usual_email)
    for address in EMAIL.findall(text):
        if usual and _domain(address) != usual:
            return True
        if situation.backup_email and address.lower() == situation.backup_email.lower():
            return True
    return False


def _other_phone(text: str, situation: Situation) -> bool:
    usual = _digits(situation.usual_phone)
    return any(not usual or _digits(p)[-9:] != usual[-9:] for p in _phones(text))


def _variables(parts: Mapping[str, str], values: Mapping[str, str]) -> list[Finding]:
    found = []
    for part in ("subject", *PARTS):
        result = render(parts.get(part, ""), values)
        label = PART_LABELS[part]
        for name in result.unknown:
            known = ", ".join(f"{{{{ {v} }}}}" for v in VARIABLES)
            found.append(
                Finding(
                    "unknown_variable",
                    part,
                    f"{label} uses {{{{ {name} }}}}, which Fallback does not know; "
                    f"a customer would see it as typed. Known: {known}.",
                    must_fix=True,
                    detail=name,
                )
            )
        for name in result.empty:
            found.append(
                Finding(
                    "empty_variable",
                    part,
                    f"{label} uses {{{{ {name} }}}} ({VARIABLES[name]}), which has no value "
                    "yet: fill it in (the notice's facts or the comms settings), or take it "
                    "out.",
                    must_fix=True,
                    detail=name,
                )
            )
    return found


def check(
    parts: Mapping[str, str], values: Mapping[str, str], situation: Situation
) -> list[Finding]:
    """Every finding about this notice, in the order of the parts."""
    findings = _variables(parts, values)
    rendered = {p: render(parts.get(p, ""), values).text for p in ("subject", *PARTS)}

    for part in ("subject", *PARTS):
        for gap in PLACEHOLDER.findall(rendered[part]):
            findings.append(
                Finding(
                    "placeholder",
                    part,
                    f"{PART_LABELS[part]} still has “{gap}”: replace it with what you know.",
                    must_fix=True,
                    detail=gap[1:21],
                )
            )
    if len(words(rendered["subject"])) < 2:
        findings.append(
            Finding("missing", "subject", "Subject: say in a few words what has happened.")
        )
    for part in PARTS:
        text = rendered[part]
        label = PART_LABELS[part]
        if len(words(text)) < MIN_WORDS or (part == "apologise" and not apologies(text)):
            findings.append(
                Finding("missing", part, f"{label} is missing: {WHAT_EACH_LAW_NEEDS[part]}.")
            )

    # Apologise once, briefly.
    said = [(part, a) for part in PARTS for a in apologies(rendered[part])]
    if len(said) > 1:
        where = ", ".join(f"{PART_LABELS[p]} (“{a}”)" for p, a in said)
        extra = next((p for p, _ in said if p != "apologise"), "apologise")
        findings.append(
            Finding(
                "grovelling",
                extra,
                f"{len(said)} apologies: {where}. Apologise once, in the Apologise part; "
                "more sounds like grovelling and says less.",
            )
        )

    # Solve: an alternate route when the usual one is the system that is down (while it
    # is: a resolved notice or a follow-up is sent once things work again).
    solve = rendered["solve"]
    down = situation.phase in FIRST_PHASES
    if not down:
        pass
    elif situation.email_down and situation.phone_down:
        if not (_other_phone(solve, situation) or _other_email(solve, situation)):
            findings.append(
                Finding(
                    "no_alternate_route",
                    "solve",
                    "Solve: the usual email and phone are both down; give a number or an "
                    "address that works now (a mobile, the backup email).",
                )
            )
    elif situation.email_down and not (_phones(solve) or _other_email(solve, situation)):
        findings.append(
            Finding(
                "no_alternate_route",
                "solve",
                "Solve: your usual email is down, so customers cannot write to it; give a "
                "phone number or another email address ({{ phone }}, {{ backup_email }}).",
            )
        )
    elif situation.phone_down and not (EMAIL.search(solve) or _other_phone(solve, situation)):
        findings.append(
            Finding(
                "no_alternate_route",
                "solve",
                "Solve: your usual phone line is down; give an email address or another "
                "number to call ({{ backup_email }}, {{ phone }}).",
            )
        )
    if down and situation.email_down and "email" in situation.channels:
        answer_to = situation.reply_to
        usual = _domain(situation.usual_email)
        if usual and answer_to and _domain(answer_to) == usual:
            findings.append(
                Finding(
                    "replies_to_down_route",
                    "message",
                    f"Replies would go to {answer_to}, on the email that is down: set the "
                    "reply-to address in the comms settings to the backup address.",
                )
            )

    # Predict: when the next update comes.
    if situation.phase in FIRST_PHASES:
        predict = rendered["predict"]
        if not (NEXT_UPDATE.search(predict) and TIME_WORDS.search(predict)):
            findings.append(
                Finding(
                    "no_next_update",
                    "predict",
                    "Predict: say when the next update will come, e.g. “Next update by "
                    "{{ next_update_by }}.” — and keep that promise.",
                )
            )

    # Far longer than needed.
    body_words = sum(len(words(rendered[p])) for p in PARTS)
    if "email" in situation.channels and body_words > EMAIL_MAX_WORDS:
        findings.append(
            Finding(
                "too_long",
                "message",
                f"{body_words} words: far longer than needed. Keep an outage notice under "
                f"{EMAIL_MAX_WORDS} words; people read the first lines only.",
            )
        )
    if "sms" in situation.channels:
        segments = sms_segments(short_text(parts, values, is_exercise=False))
        if segments > SMS_MAX_SEGMENTS:
            findings.append(
                Finding(
                    "sms_too_long",
                    "message",
                    f"As an SMS it takes {segments} messages; keep it to "
                    f"{SMS_MAX_SEGMENTS} (about 450 characters) — shorten the parts.",
                )
            )
    order = {p: i for i, p in enumerate(("subject", *PARTS, "message"))}
    return sorted(findings, key=lambda f: order.get(f.part, 99))


def blocking(findings: Sequence[Finding], acknowledged: Sequence[str]) -> list[Finding]:
    """The findings that still stop the notice going out."""
    done = set(acknowledged)
    return [f for f in findings if f.must_fix or f.key not in done]
