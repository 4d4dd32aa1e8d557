"""Workers type the way real workers type, and the line must still hear every one of them.

Each conversation below is data: what one worker sends, in order (greetings, questions,
words instead of numbers, emojis, typos, several languages and scripts, a whole story at
once or in parts, danger words, HELP, STOP and START, replies after the case code, photos,
an empty message, 2,000 characters, native digits, the wrong language, the wrong moment),
sometimes with a case handler acting in the web client in between. Every message goes
through the signed Twilio webhook from a fresh phone number, on SQLite and PostgreSQL.

After every message, and again at the end, three invariants hold:

(a) no message goes unanswered: the worker got a reply, or the message is on a case where a
    person reads it (unread, or a person requested), or it belongs to the report the worker
    is in the middle of. While opted out, after the once-a-day reminder, silence is right,
    but the message must still reach the worker's case if they have one.
(b) no report is lost: at the end every message is on a case, or in the unfinished report
    (the conversation's run, interrupted runs or draft), or was part of a report the worker
    declined with a "no" at the consent question. A message that carries nothing to report
    (a keyword, a bare yes/no or number, only emojis or punctuation, nothing at all) is
    exempt. The stories the worker told are in the case description.
(c) no request for a person is dropped: after HELP and yes, danger words and yes, an
    unreadable answer to the danger question, or "2" to a handler's "are you safe?", a case
    of the worker has a person requested, the handlers' queue (/cases, and its "person
    requested" filter) lists it, and the JSON API says ``"handover_requested": true``.

Each conversation also checks its own outcome (replies in the worker's language, the
category, P0 for danger, the number of cases, attachments...).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grievance.config import Settings
from grievance.conversation.engine import strip_edges
from grievance.language.words import bare_number, story_like
from grievance.models import Attachment, Case, Contact, Conversation, Message
from grievance.runtime import Runtime
from tests.conftest import Phone, environment
from tests.support.api import api, token_for
from tests.support.fake_twilio import FakeTwilio
from tests.support.staff import act, handler

# -- the conversations as data ------------------------------------------------------------


@dataclass(frozen=True)
class W:
    """A message the worker sends, and what they should get back.

    Catalog keys are checked in the conversation's language; ``"ne:key"`` names another.
    """

    text: str = ""
    media: str | None = None  # MIME type of an attachment (a photo, a voice note)
    expect: tuple[str, ...] = ()  # every one of these is in the reply
    one_of: tuple[str, ...] = ()  # at least one of these is
    never: tuple[str, ...] = ()  # none of these is
    quiet: bool = False  # no reply at all (opted out, after the reminder)
    person: bool = False  # the worker asks for a person with this message


@dataclass(frozen=True)
class H:
    """A case handler acts on the worker's latest case in the web client."""

    canned: str  # a canned reply, sent from the case page
    expect: tuple[str, ...] = ()  # what the worker then receives


@dataclass(frozen=True)
class Script:
    """One worker's conversation and its expected outcome."""

    id: str
    steps: tuple[W | H, ...]
    lang: str = "en"  # the language the line should answer in
    channel: str = "sms"
    languages: str = "en,ne,my"  # the deployment's languages
    cases: int | None = None  # how many cases the worker has at the end
    story: tuple[str, ...] = ()  # words that must be in a case description
    severity: str | None = None  # of the worker's first case
    category: str | None = None  # reported category of the worker's first case
    categories: tuple[str, ...] = ()  # categories of all the worker's cases
    handover: bool | None = None  # a person requested on a case at the end
    case_language: str | None = None
    attachments: int | None = None  # stored attachments on the worker's cases
    on_case: tuple[str, ...] = ()  # messages that must be on a case, where a person reads them


FEE_STORY = "The agent took 3000 dollars for this job and the salary is half of what he promised"
NE_STORY = "तीन महिनादेखि तलब दिएको छैन, मालिकले पछि दिन्छु भन्छ"


def _long_story() -> str:
    sentences = [
        "We came from Nepal in March through an agent in Kathmandu who took 3000 dollars.",
        "At the airport the supervisor took all our passports and said it is company rule.",
        "We work from 6 in the morning to 10 at night, seven days, and overtime is not paid.",
        "The salary in the contract was 1500 ringgit but they pay 900 and cut for the hostel.",
        "Twenty two men sleep in one room, there is one toilet and the water is dirty.",
        "When my friend asked for his passport to go home for his father's funeral they said no.",
        "He must pay 2000 ringgit first, so we are afraid to ask for anything.",
    ]
    text, i = "", 0
    while len(text) < 2000:
        text += sentences[i % len(sentences)] + " "
        i += 1
    return text[:2000]


LONG_STORY = _long_story()


def report(story: str = FEE_STORY, first: str = "hi") -> tuple[W, ...]:
    """A plain English report on SMS (also WhatsApp: no news asked, so no SMS question)."""
    return (
        W(first, expect=("intake.continue_question",)),
        W("1", expect=("intake.choose_category",)),
        W("2", expect=("intake.ask_workplace",)),
        W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
        W(story, expect=("intake.ask_danger_now",)),
        W("2", expect=("intake.ask_updates",)),
        W("2", expect=("intake.case_opened",)),
    )


NE_REPORT = (
    W("नमस्ते", expect=("intake.continue_question",)),
    W("१", expect=("intake.choose_category",)),
    W("३", expect=("intake.ask_workplace",)),
    W("अल खलिज कम्पनी, दोहा", expect=("intake.ask_what_happened",)),
    W(NE_STORY, expect=("intake.ask_danger_now",)),
    W("२", expect=("intake.ask_updates",)),
    W("२", expect=("intake.case_opened",)),
)

SCRIPTS = [
    Script(
        "hi-yes-passport-in-words",
        (
            W("hi", expect=("intake.continue_question",)),
            W("yes", expect=("intake.choose_category",)),
            W("passport", expect=("intake.ask_workplace",)),  # a menu word chooses option 1
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            W(
                "they keep my passport in the office and I cannot go home to see my mother",
                expect=("intake.ask_danger_now",),
            ),
            W("no", expect=("intake.ask_updates",)),
            W("ok", expect=("intake.ask_full_updates",)),
            W("no thanks", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("they keep my passport in the office",),
        category="FL-MOV",
        severity="P1",
        handover=False,
    ),
    Script(
        "hello-sir-typos",
        (
            W("hello sir", expect=("intake.continue_question",)),
            W("yse", expect=("common.reask_menu",)),
            W("1", expect=("intake.choose_category",)),
            W("6", expect=("intake.ask_workplace",)),
            W("Sunrise Garmnts, Penang", expect=("intake.ask_what_happened",)),
            W(
                "salary cut evry month 300 ringit for hostel and transprt",
                expect=("intake.ask_danger_now",),
            ),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("salary cut evry month 300 ringit",),
        category="WAGE",
    ),
    Script(
        "assalamualaikum-questions-then-ok",
        (
            W("assalamualaikum", expect=("intake.continue_question",)),
            W("is this free?", expect=("common.reask_menu",)),
            W("who are you?", expect=("common.reask_menu",)),
            W("ok", expect=("intake.choose_category",)),
            W("9", expect=("intake.ask_workplace",)),
            W("Al Rawabi Dairy, Al Ain", expect=("intake.ask_what_happened",)),
            W(
                "we sleep 12 people in one small room with no aircon",
                expect=("intake.ask_danger_now",),
            ),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("we sleep 12 people in one small room",),
        category="OTHER",
    ),
    Script(
        "keycap-emoji-at-the-consent-question",
        (
            W("hi", expect=("intake.continue_question",)),
            W("1\ufe0f\u20e3", expect=("intake.choose_category",)),  # 1️⃣ from the emoji keyboard
        ),
        cases=0,
    ),
    Script(
        "three-misses-at-consent-without-a-story",
        (
            W("hi", expect=("intake.continue_question",)),
            W("one", expect=("common.reask_menu",)),
            W("???", expect=("common.reask_menu",)),
            # Three misses and no story are no "no": what the line is, and a person offered.
            W("my salary", expect=("help.about", "help.offer_person"), never=("intake.goodbye",)),
            W("1", expect=("help.person_will_contact",), person=True),
        ),
        cases=1,
        handover=True,
        on_case=("my salary",),
    ),
    Script(
        "story-first-then-three-questions-at-consent",
        (
            W(
                "Hello sir, I am Ram from Nepal. I work at Sunrise Garments in Penang. The agent "
                "took 3000 dollars and the company keeps my passport.",
                expect=("intake.continue_question",),
            ),
            W("?", expect=("common.reask_menu",)),
            W("is this free?", expect=("common.reask_menu",)),
            # "who reads this?" is option 3, answered in full; the same question follows.
            W("who reads this?", expect=("intake.who_sees_what", "intake.continue_question")),
            W("is it free?", expect=("common.reask_menu",)),
            W("what is this", expect=("common.reask_menu",)),
            # Three answers that are no answer are not a "no": the story must not be dropped.
            # Asking for a call is offered a person; a yes, and a person reads the story.
            W("can you call me", expect=("help.offer_person",)),
            W("yes", expect=("help.person_will_contact",), person=True),
        ),
        cases=1,
        story=("The agent took 3000 dollars",),
        handover=True,
    ),
    Script(
        "namaste-menu-then-devanagari-digits",
        (
            W("namaste", expect=("en:common.choose_language",)),
            W("२", expect=("intake.continue_question",)),
            W("हो", expect=("intake.choose_category",)),
            W("१", expect=("intake.ask_workplace",)),
            W("अल खलिज कम्पनी, दोहा", expect=("intake.ask_what_happened",)),
            W("मेरो पासपोर्ट कम्पनीले राख्यो, घर जान दिँदैन", expect=("intake.ask_danger_now",)),
            W("होइन", expect=("intake.ask_updates",)),
            W("हो", expect=("intake.ask_full_updates",)),
            W("होइन", expect=("intake.case_opened",)),
        ),
        lang="ne",
        cases=1,
        story=("मेरो पासपोर्ट कम्पनीले राख्यो",),
        category="FL-MOV",
        case_language="ne",
    ),
    Script(
        "romanized-nepali-sentence",
        (
            # Romanized Nepali: not English, and Nepali's own words ("malai", "chahiyo") say
            # which; on a line without romanized Nepali, the answer is in Nepali's script.
            W("namaste dai malai sahayog chahiyo", expect=("intake.continue_question",)),
            W("ho", expect=("intake.choose_category",)),
            W("3", expect=("intake.ask_workplace",)),
            W("Al Khaleej company, Doha", expect=("intake.you_wrote",)),
            W("2", expect=("intake.ask_what_happened",)),
            W("mero talab 3 mahina dekhi diyeko chaina", expect=("intake.ask_danger_now",)),
            W("hoina", expect=("intake.ask_updates",)),
            W("hoina", expect=("intake.case_opened",)),
        ),
        lang="ne",
        cases=1,
        story=("mero talab 3 mahina dekhi diyeko chaina",),
        category="FL-DEBT",
        case_language="ne",
    ),
    Script(
        "romanized-nepali-greeting-is-not-english",
        (
            # No English word in it: the line must ask (the menu names नेपाली) or answer in
            # Nepali, not decide on English.
            W(
                "namaste dai",
                one_of=("en:common.choose_language", "ne:intake.continue_question"),
            ),
        ),
        lang="ne",
        cases=0,
    ),
    Script(
        "danger-first-message-in-nepali",
        (
            W("म खतरामा छु", expect=("intake.ask_danger_now",)),
            W("हो", expect=("intake.urgent", "intake.continue_question"), person=True),
            W("हो", expect=("intake.choose_category",)),
            W("४", expect=("intake.ask_workplace",)),
            W("अल फलाह फार्म, रियाद", expect=("intake.you_wrote",)),
            W("२", expect=("intake.ask_what_happened",)),
            W("मालिकले हरेक दिन कुटपिट गर्छ र कोठामा थुनेर राख्छ", expect=("intake.ask_updates",)),
            W("होइन", expect=("intake.case_opened",)),
        ),
        lang="ne",
        cases=1,
        story=("म खतरामा छु", "मालिकले हरेक दिन कुटपिट गर्छ"),
        severity="P0",
        category="VIO",
        handover=True,
        case_language="ne",
    ),
    Script(
        "please-help-me-they-locked-me-in",
        (
            W("please help me they locked me in", expect=("intake.ask_danger_now",)),
            W("yes", expect=("intake.urgent", "intake.continue_question"), person=True),
            W("1", expect=("intake.choose_category",)),
            W("1", expect=("intake.ask_workplace",)),
            W("Al Noor Farm, Doha", expect=("intake.you_wrote",)),
            W("1", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("they locked me in",),
        severity="P0",
        category="FL-MOV",
        handover=True,
    ),
    Script(
        "danger-words-in-the-story-then-no",
        (
            W("hi", expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            W("4", expect=("intake.ask_workplace",)),
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            W(
                "supervisor threaten to kill me if I complain to anyone",
                expect=("intake.ask_danger_now",),
            ),
            # The words that raised the question answered "what happened?": it is not asked again.
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("supervisor threaten to kill me",),
        severity="P1",
        category="VIO",
        handover=False,
    ),
    Script(
        "they-beat-me-then-unreadable-answers",
        (
            W("they beat me every day", expect=("intake.ask_danger_now",)),
            W("😭", expect=("common.reask_yes_no",)),
            W("I don't know", expect=("danger.unsure", "intake.continue_question"), person=True),
            W("1", expect=("intake.choose_category",)),
            W("4", expect=("intake.ask_workplace",)),
            W("Sunrise Garments, Penang", expect=("intake.you_wrote",)),
            W("1", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("they beat me every day",),
        severity="P0",
        handover=True,
    ),
    Script(
        "help-in-the-middle-then-yes",
        (
            W("hi", expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            W("HELP", expect=("help.about", "help.offer_person")),
            W("yes", expect=("help.person_will_contact", "intake.choose_category"), person=True),
            W("3", expect=("intake.ask_workplace",)),
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            W("no salary for 3 months and the boss says wait", expect=("intake.ask_danger_now",)),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("no salary for 3 months",),
        category="FL-DEBT",
        handover=True,
    ),
    Script(
        "help-first-then-1-then-thanks",
        (
            W("HELP", expect=("help.about", "help.offer_person")),
            W("1", expect=("help.person_will_contact",), person=True),
            W("thank you 🙏", expect=("followup.received",)),
        ),
        cases=1,
        handover=True,
    ),
    Script(
        "help-keyword-in-nepali-first",
        (
            W("मद्दत", expect=("help.about", "help.offer_person")),
            W("हो", expect=("help.person_will_contact",), person=True),
        ),
        lang="ne",
        cases=1,
        handover=True,
        case_language="ne",
    ),
    Script(
        "help-keyword-in-burmese-first",
        (
            W("အကူအညီ", expect=("help.about", "help.offer_person")),
            W("၁", expect=("help.person_will_contact",), person=True),
        ),
        lang="my",
        cases=1,
        handover=True,
        case_language="my",
    ),
    Script(
        "nepali-help-ho-then-no-report",
        (
            W("नमस्ते", expect=("intake.continue_question",)),
            W("मद्दत", expect=("help.about", "help.offer_person")),
            W("हो", expect=("help.person_will_contact", "intake.continue_question"), person=True),
            W("होइन", expect=("intake.goodbye_open_case",)),
            W("धन्यवाद 🙏", expect=("followup.received",)),
        ),
        lang="ne",
        cases=1,
        handover=True,
        case_language="ne",
    ),
    Script(
        "spanish-ayuda-then-si",
        (
            W("hola buenas noches", expect=("intake.continue_question",)),
            W("AYUDA", expect=("help.about", "help.offer_person")),
            W("si", expect=("help.person_will_contact", "intake.continue_question"), person=True),
            W("si", expect=("intake.choose_category",)),
            W("6", expect=("intake.ask_workplace",)),
            W("Granja El Sol, Huelva", expect=("intake.ask_what_happened",)),
            W(
                "no nos pagan las horas extra desde hace dos meses",
                expect=("intake.ask_danger_now",),
            ),
            W("no", expect=("intake.ask_updates",)),
            W("no", expect=("intake.case_opened",)),
        ),
        lang="es",
        languages="en,ne,my,es",
        cases=1,
        story=("no nos pagan las horas extra",),
        category="WAGE",
        handover=True,
        case_language="es",
    ),
    Script(
        "help-then-no-thanks-back-to-the-question",
        (
            W("hi", expect=("intake.continue_question",)),
            W("yes", expect=("intake.choose_category",)),
            W("2", expect=("intake.ask_workplace",)),
            W("HELP", expect=("help.about", "help.offer_person")),
            W("no thanks", expect=("intake.ask_workplace",), never=("help.person_will_contact",)),
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            W(
                "agent took 3000 dollars and told lies about the salary",
                expect=("intake.ask_danger_now",),
            ),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("agent took 3000 dollars",),
        category="FL-FEE",
        handover=False,
    ),
    Script(
        "stop-hello-start-resumes-the-question",
        (
            W("hi", expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            W("STOP", expect=("stop.confirmed",)),
            W("hello", expect=("stop.reminder",)),
            W("START", expect=("start.continue_report", "intake.choose_category")),
            W("3", expect=("intake.ask_workplace",)),
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            W("they did not pay overtime for two months", expect=("intake.ask_danger_now",)),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("they did not pay overtime",),
        category="FL-DEBT",
    ),
    Script(
        "stop-then-a-story-while-stopped",
        (
            W("STOP", expect=("stop.confirmed",)),
            W("hello", expect=("stop.reminder",)),
            # A story with no case and no report to keep it: a person reads it (no reply
            # can reach the worker until START).
            W("my boss took my passport and I cannot leave the camp", quiet=True, person=True),
            W("START", one_of=("start.confirmed", "start.continue_report")),
        ),
        cases=1,
        story=("my boss took my passport",),
        handover=True,
    ),
    Script(
        "stop-then-danger-words-without-a-case",
        (
            W("STOP", expect=("stop.confirmed",)),
            # Danger words are watched "in any message": these must reach a person even
            # though nothing may be sent back until START.
            W(
                "please help me they locked me in",
                one_of=("stop.reminder", "intake.ask_danger_now"),
            ),
            W("yes"),
        ),
        on_case=("please help me they locked me in",),
    ),
    Script(
        "stop-keyword-in-nepali-first",
        (W("रोक", expect=("stop.confirmed",)),),
        lang="ne",
        cases=0,
    ),
    Script(
        "stop-with-a-case-words-still-reach-it",
        (
            *report(),
            W("STOP", expect=("stop.confirmed_open",)),
            W(
                "the supervisor took my phone yesterday and shouted at me",
                expect=("stop.reminder",),
            ),
            W("also they cut 200 ringgit from my salary", quiet=True),
            W("START", expect=("start.confirmed",)),
            W("ok thanks", expect=("followup.received",)),
        ),
        cases=1,
        story=("The agent took 3000 dollars",),
        on_case=(
            "the supervisor took my phone yesterday and shouted at me",
            "also they cut 200 ringgit from my salary",
            "ok thanks",
        ),
    ),
    Script(
        "replies-after-the-code",
        (
            *report(),
            W("thank you sir 🙏", expect=("followup.received",)),
            W("👍"),
            W("1"),
            W("ok"),
            W("is this free?"),
        ),
        cases=1,
        story=("The agent took 3000 dollars",),
        handover=False,
        on_case=("thank you sir 🙏", "👍", "1", "ok", "is this free?"),
    ),
    Script(
        "photo-after-the-code-whatsapp",
        (
            *report(),
            W("", media="image/jpeg", expect=("followup.received",)),
            W("this is the contract they made me sign", media="image/jpeg"),
        ),
        channel="whatsapp",
        cases=1,
        attachments=2,
    ),
    Script(
        "photo-as-the-story-whatsapp",
        (
            W("hi", expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            W("1", expect=("intake.ask_workplace",)),
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            W("", media="image/jpeg", expect=("intake.ask_danger_now",)),
            W("2", expect=("intake.ask_updates",)),
            W("1", expect=("intake.ask_full_updates",)),
            W("2", expect=("intake.ask_sms_fallback",)),
            W("2", expect=("intake.case_opened",)),
        ),
        channel="whatsapp",
        cases=1,
        category="FL-MOV",
        attachments=1,
    ),
    Script(
        "voice-note-story-in-nepali-whatsapp",
        (
            W("नमस्ते", expect=("intake.continue_question",)),
            W("हो", expect=("intake.choose_category",)),
            W("२", expect=("intake.ask_workplace",)),
            W("अल खलिज कम्पनी, दोहा", expect=("intake.ask_what_happened",)),
            W("", media="audio/ogg", expect=("intake.ask_danger_now",)),
            W("२", expect=("intake.ask_updates",)),
            W("२", expect=("intake.case_opened",)),
            W("", media="audio/ogg", expect=("followup.received",)),
        ),
        lang="ne",
        channel="whatsapp",
        cases=1,
        category="FL-FEE",
        attachments=2,
        case_language="ne",
    ),
    Script(
        "empty-messages-first",
        (
            W("", expect=("common.choose_language",)),
            W("", expect=("common.reask_language",)),
            W("1", expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            W("8", expect=("intake.ask_workplace",)),
            W("Labour camp 4, Jebel Ali, Dubai", expect=("intake.ask_what_happened",)),
            W(
                "no water in the camp for one week and the toilets are broken",
                expect=("intake.ask_danger_now",),
            ),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("no water in the camp",),
        category="LIV",
    ),
    Script(
        "emojis-only-then-numbers",
        (
            W("🙏", expect=("common.choose_language",)),
            W("👍", expect=("common.reask_language",)),
            W("1", expect=("intake.continue_question",)),
            W("👍", expect=("intake.choose_category",)),  # a thumbs-up is a yes
            W("5", expect=("intake.ask_workplace",)),
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            W(
                "😭 they make us work with chemicals and no gloves or masks",
                expect=("intake.ask_danger_now",),
            ),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("they make us work with chemicals",),
        category="OSH",
    ),
    Script(
        "2000-characters-as-the-first-message",
        (
            W(LONG_STORY, expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            W("1", expect=("intake.ask_workplace",)),
            W("Sunrise Garments, Penang", expect=("intake.you_wrote",)),
            W("1", expect=("intake.ask_danger_now",)),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=(LONG_STORY.strip(),),
        category="FL-MOV",
    ),
    Script(
        "2000-characters-answer-what-happened",
        (
            W("hi", expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            W("2", expect=("intake.ask_workplace",)),
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            # Kept whole in the description, so not asked again as if it never arrived.
            W(LONG_STORY, expect=("intake.ask_danger_now",)),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=(LONG_STORY.strip(),),
        category="FL-FEE",
    ),
    Script(
        "story-in-three-parts",
        (
            W("hello", expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            W("3", expect=("intake.ask_workplace",)),
            W("Sunrise, Penang", expect=("intake.ask_what_happened",)),
            W("they not pay my salary", expect=("intake.ask_danger_now",)),
            W("for three months now and when we ask", expect=("intake.ask_danger_now",)),
            W(
                "the supervisor shouts and says go back to Nepal",
                expect=("intake.ask_danger_now",),
            ),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=(
            "they not pay my salary",
            "for three months now and when we ask",
            "the supervisor shouts and says go back to Nepal",
        ),
        category="FL-DEBT",
    ),
    Script(
        "story-typed-at-the-category-menu",
        (
            W("hi", expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            # "passport" chooses option 1, and the words join the story
            W("my boss keeps my passport and does not pay me", expect=("intake.ask_workplace",)),
            W("Sunrise Garments, Penang", expect=("intake.you_wrote",)),
            W("1", expect=("intake.ask_danger_now",)),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("my boss keeps my passport and does not pay me",),
        category="FL-MOV",
    ),
    Script(
        "burmese-with-burmese-digits",
        (
            W("မင်္ဂလာပါ", expect=("intake.continue_question",)),
            W("၁", expect=("intake.choose_category",)),
            W("၃", expect=("intake.ask_workplace",)),
            W("ABC factory, Mae Sot", expect=("intake.ask_what_happened",)),
            W(
                "လစာမပေးဘူး သုံးလရှိပြီ အလုပ်ရှင်က ပတ်စပို့ယူထားတယ်",
                expect=("intake.ask_danger_now",),
            ),
            W("၂", expect=("intake.ask_updates",)),
            W("၂", expect=("intake.case_opened",)),
        ),
        lang="my",
        cases=1,
        story=("လစာမပေးဘူး",),
        category="FL-DEBT",
        case_language="my",
    ),
    Script(
        "arabic-on-a-line-with-arabic",
        (
            W("السلام عليكم", expect=("intake.continue_question",)),
            W("نعم", expect=("intake.choose_category",)),
            W("١", expect=("intake.ask_workplace",)),
            W("مزرعة النور، الدوحة", expect=("intake.ask_what_happened",)),
            W(
                "الكفيل أخذ جوازي ولا يدفع الراتب منذ ثلاثة أشهر",
                expect=("intake.ask_danger_now",),
            ),
            W("٢", expect=("intake.ask_updates",)),
            W("٢", expect=("intake.case_opened",)),
        ),
        lang="ar",
        languages="en,ne,my,ar",
        cases=1,
        story=("الكفيل أخذ جوازي",),
        category="FL-MOV",
        case_language="ar",
    ),
    Script(
        "arabic-on-a-line-without-arabic",
        (
            W("السلام عليكم", expect=("common.choose_language",)),
            W("١", expect=("intake.continue_question",)),
            W("نعم", expect=("intake.choose_category",)),  # a yes in any catalog is a yes
            W("1", expect=("intake.ask_workplace",)),
            W("مزرعة النور، الدوحة", expect=("intake.ask_what_happened",)),
            W(
                "الكفيل أخذ جوازي ولا يدفع الراتب منذ ثلاثة أشهر",
                expect=("intake.ask_danger_now",),
            ),
            W("٢", expect=("intake.ask_updates",)),
            W("٢", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("الكفيل أخذ جوازي",),
        category="FL-MOV",
        case_language="en",
    ),
    Script(
        "spanish-on-a-line-without-spanish",
        (
            W("hola buenas noches, necesito ayuda por favor", expect=("intake.continue_question",)),
            W("si", expect=("intake.choose_category",)),  # a yes in any catalog is a yes
            W("6", expect=("intake.ask_workplace",)),
            W("Granja El Sol, Huelva", expect=("intake.you_wrote",)),
            W("2", expect=("intake.ask_what_happened",)),
            W(
                "no nos pagan las horas extra desde hace dos meses",
                expect=("intake.ask_danger_now",),
            ),
            W("no", expect=("intake.ask_updates",)),
            W("no", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("no nos pagan las horas extra",),
        category="WAGE",
    ),
    Script(
        "malay-ya-tak-on-a-line-with-malay",
        (
            W("selamat pagi encik", expect=("intake.continue_question",)),
            W("ya", expect=("intake.choose_category",)),
            W("6", expect=("intake.ask_workplace",)),
            W("Kilang ABC, Johor Bahru", expect=("intake.ask_what_happened",)),
            W(
                "majikan potong gaji saya setiap bulan tanpa sebab",
                expect=("intake.ask_danger_now",),
            ),
            W("tak", expect=("intake.ask_updates",)),
            W("tak", expect=("intake.case_opened",)),
        ),
        lang="ms",
        languages="en,ne,my,ms",
        cases=1,
        story=("majikan potong gaji saya",),
        category="WAGE",
        case_language="ms",
    ),
    Script(
        "mixed-scripts-then-language-keyword",
        (
            # English words in a Nepali sentence: the worker's own script decides
            W("hello sir मेरो passport company ले राख्यो", expect=("intake.continue_question",)),
            # a keyword only Nepali has: the menu comes in Nepali
            W("भाषा", expect=("common.choose_language",)),
            W("२", expect=("language.changed", "intake.continue_question")),
            W("हो", expect=("intake.choose_category",)),
            W("१", expect=("intake.ask_workplace",)),
            W("अल खलिज कम्पनी, दोहा", expect=("intake.you_wrote",)),
            W("१", expect=("intake.ask_danger_now",)),
            W("होइन", expect=("intake.ask_updates",)),
            W("होइन", expect=("intake.case_opened",)),
        ),
        lang="ne",
        cases=1,
        story=("मेरो passport company ले राख्यो",),
        category="FL-MOV",
        case_language="ne",
    ),
    Script(
        "nepali-worker-answers-in-english",
        (
            W("नमस्ते", expect=("intake.continue_question",)),
            W("yes", expect=("intake.choose_category",)),
            W("1", expect=("intake.ask_workplace",)),
            W("Al Khaleej, Doha", expect=("intake.ask_what_happened",)),
            W("company le passport rakhyo ra talab diyena", expect=("intake.ask_danger_now",)),
            W("no", expect=("intake.ask_updates",)),
            W("ok", expect=("intake.ask_full_updates",)),
            W("no", expect=("intake.case_opened",)),
        ),
        lang="ne",
        cases=1,
        story=("company le passport rakhyo",),
        category="FL-MOV",
        case_language="ne",
    ),
    Script(
        "writing-at-the-wrong-moment",
        (
            W("hi", expect=("intake.continue_question",)),
            W("Sunrise Garments Penang", expect=("common.reask_menu",)),
            W("1", expect=("intake.choose_category",)),
            W("Sunrise Garments Penang", expect=("common.reask_menu",)),
            W("3", expect=("intake.ask_workplace",)),
            W("3", expect=("common.reask_text",)),
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            W("yes", expect=("common.reask_text",)),
            W(
                "boss keeps half of salary as debt for the agent fee",
                expect=("intake.ask_danger_now",),
            ),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=("boss keeps half of salary as debt",),
        category="FL-DEBT",
    ),
    Script(
        "said-no-then-reported-later",
        (
            W("hello", expect=("intake.continue_question",)),
            W("2", expect=("intake.goodbye",)),
            W("hi again", expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            W("2", expect=("intake.ask_workplace",)),
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            W(FEE_STORY, expect=("intake.ask_danger_now",)),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=1,
        story=(FEE_STORY,),
    ),
    Script(
        "status-in-the-middle-of-a-second-report",
        (
            *report(),
            W("MENU", expect=("intake.continue_question",)),
            W("1", expect=("intake.choose_category",)),
            W("7", expect=("intake.ask_workplace",)),
            W("STATUS", expect=("status.report", "intake.ask_workplace")),
            W("Sunrise Garments, Penang", expect=("intake.ask_what_happened",)),
            W("we work 16 hours every day with no day off", expect=("intake.ask_danger_now",)),
            W("2", expect=("intake.ask_updates",)),
            W("2", expect=("intake.case_opened",)),
        ),
        cases=2,
        story=("The agent took 3000 dollars", "we work 16 hours every day"),
        categories=("FL-FEE", "HRS"),
    ),
    Script(
        "fired-because-i-complained-after-the-code",
        (
            *report(),
            W("they fired me because I complained", expect=("retaliation.ask",)),
            W("1", expect=("checkin.opened",)),
            W("thanks", expect=("followup.received",)),
        ),
        cases=2,
        story=("The agent took 3000 dollars", "they fired me because I complained"),
        categories=("FL-FEE", "RET"),
    ),
    Script(
        "locked-in-after-the-code",
        (
            *report(),
            W("they locked us in the room, help us", expect=("intake.ask_danger_now",)),
            W("yes", expect=("intake.urgent",), person=True),
            W("ok", expect=("followup.received",)),
        ),
        cases=1,
        severity="P0",
        handover=True,
    ),
    Script(
        "handler-asks-are-you-safe-worker-says-2",
        (
            *report(),
            H("handler.are_you_safe", expect=("handler.are_you_safe",)),
            W("2", expect=("intake.urgent",), person=True),
        ),
        cases=1,
        severity="P0",
        handover=True,
    ),
    Script(
        "handler-asks-are-you-safe-unreadable-nepali",
        (
            *NE_REPORT,
            H("handler.are_you_safe", expect=("handler.are_you_safe",)),
            W("😭", expect=("common.reask_menu",)),
            W("थाहा छैन", one_of=("intake.urgent", "danger.unsure"), person=True),
        ),
        lang="ne",
        cases=1,
        severity="P0",
        handover=True,
        case_language="ne",
    ),
    Script(
        "handler-asks-for-more-worker-answers",
        (
            *report(),
            H("handler.ask_more", expect=("handler.ask_more",)),
            W(
                "they also took the passports of my 2 friends from the same room",
                expect=("question.thanks",),
            ),
            W("🙏"),
        ),
        cases=1,
        story=("The agent took 3000 dollars",),
    ),
]

# -- the deployment each conversation runs on -----------------------------------------------


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, fake_twilio: FakeTwilio, request: pytest.FixtureRequest
) -> Settings:
    """The conftest deployment, in the languages the conversation's line speaks."""
    script: Script = request.node.callspec.params["script"]
    return Settings.from_env(
        environment(
            database_url, tmp_path / "instance", fake_twilio, GRIEVANCE_LANGUAGES=script.languages
        )
    )


# -- running a conversation -----------------------------------------------------------------

# Replies that promise the worker a person: each means (c) must hold.
PERSON_PROMISES = ("help.person_will_contact", "intake.urgent", "danger.unsure")


@dataclass
class Sent:
    """One message the worker sent, and what came back."""

    step: int
    text: str
    sid: str
    replies: list[str]
    media: bool = False
    # The worker had opted out (STOP) before this message and still has after it.
    while_opted_out: bool = False
    had_case: bool = False  # the worker had a case when this message was processed
    # A case handler read (or wrote to) the case after this message.
    handled_after: bool = False


@dataclass
class State:
    """What the database says about the worker, read in one go."""

    contact: Contact | None
    messages: dict[str, Message]  # by provider sid
    cases: list[Case]
    descriptions: dict[int, str]
    run_refs: set[int]  # the current run's and interrupted runs' messages
    draft_refs: set[int]
    said: dict[str, str]
    attachments: int


def _refs(run: object) -> set[int]:
    if not isinstance(run, dict):
        return set()
    return {int(r) for r in run.get("refs", []) if str(r).isdigit()}


@dataclass
class Chat:
    """One worker's phone, the line's database, and a case handler when one is needed."""

    script: Script
    phone: Phone
    runtime: Runtime
    app: Flask
    fake: FakeTwilio
    sent: list[Sent] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    person_pending: bool = False
    declined_upto: int = -1  # index in ``sent`` of a "no" at the consent question
    opted_out: bool = False
    _web: FlaskClient | None = None
    _token: str | None = None

    # -- catalog texts --

    def text_of(self, spec: str) -> str:
        """The fixed part of a catalog message ("key" in the script's language, or "xx:key")."""
        lang, _, key = spec.rpartition(":")
        catalog = self.runtime.catalogs[lang or self.script.lang]
        text = catalog.messages[key].for_channel(self.phone.channel)
        return max(re.split(r"\{[^}]*\}", text), key=len).strip()

    def texts_in_all_languages(self, key: str) -> list[str]:
        return [self.text_of(f"{lang}:{key}") for lang in self.runtime.settings.languages]

    # -- failure messages --

    def where(self, what: str) -> str:
        tail = "\n".join(self.transcript[-12:])
        return f"[{self.script.id}] {what}\n--- the conversation so far ---\n{tail}"

    # -- the database --

    def state(self) -> State:
        runtime = self.runtime
        with runtime.sessions() as session:
            rows = session.scalars(
                select(Message).where(Message.provider_sid.in_([s.sid for s in self.sent]))
            ).all()
            messages = {m.provider_sid or "": m for m in rows}
            contact_id = next((m.contact_id for m in rows if m.contact_id), None)
            contact = session.get(Contact, contact_id) if contact_id else None
            cases = (
                list(
                    session.scalars(
                        select(Case).where(Case.contact_id == contact_id).order_by(Case.id)
                    )
                )
                if contact_id
                else []
            )
            descriptions = {
                c.id: runtime.protector.decrypt(c.description_encrypted)
                if c.description_encrypted
                else ""
                for c in cases
            }
            conversation = (
                session.scalars(
                    select(Conversation).where(Conversation.contact_id == contact_id)
                ).one_or_none()
                if contact_id
                else None
            )
            data = dict(conversation.state or {}) if conversation else {}
            run_refs = _refs(data.get("run"))
            for parent in data.get("parents") or []:
                run_refs |= _refs(parent)
            attachments = (
                session.scalar(
                    select(func.count())
                    .select_from(Attachment)
                    .where(
                        Attachment.case_id.in_([c.id for c in cases]),
                        Attachment.status == "stored",
                    )
                )
                or 0
            )
            session.expunge_all()
        return State(
            contact,
            messages,
            cases,
            descriptions,
            run_refs,
            _refs(data.get("draft")),
            dict(data.get("said") or {}),
            int(attachments),
        )

    # -- the worker writes --

    def send(self, index: int, step: W) -> None:
        extra: dict[str, str] = {}
        if step.media:
            url = self.fake.add_media(
                f"m{uuid.uuid4().hex[:12]}", b"\xff\xd8 evidence " + step.media.encode(), step.media
            )
            extra = {"NumMedia": "1", "MediaUrl0": url, "MediaContentType0": step.media}
        params = self.phone.params(step.text, **extra)
        shown = step.text if len(step.text) <= 80 else step.text[:77] + "..."
        self.transcript.append(f"worker> {shown!r}" + (f" + {step.media}" if step.media else ""))
        response = self.phone.post(params)
        assert response.status_code == 200, self.where(
            f"step {index}: the webhook answered {response.status_code} to {shown!r}"
        )
        replies = self.phone.replies()
        for reply in replies:
            self.transcript.append("   line> " + reply.replace("\n", "\n         "))
        if not replies:
            self.transcript.append("   line> (nothing)")
        sent = Sent(index, step.text, params["MessageSid"], replies, media=bool(step.media))
        self.sent.append(sent)
        self.check_replies(index, step, sent)
        state = self.state()
        opted_out = bool(state.contact and state.contact.opted_out)
        sent.while_opted_out = self.opted_out and opted_out
        sent.had_case = bool(state.cases)
        self.opted_out = opted_out
        if self._declines(sent):
            self.declined_upto = len(self.sent) - 1
        self.check_answered(sent, state, at_end=False)
        promised = any(
            text in reply
            for key in PERSON_PROMISES
            for text in self.texts_in_all_languages(key)
            for reply in replies
        )
        if step.person or promised:
            self.person_pending = True
            self.check_person(state, f"after {shown!r}")

    def _declines(self, sent: Sent) -> bool:
        """A "no" at the consent question, answered with "no report was made"."""
        goodbye = self.texts_in_all_languages("intake.goodbye")
        said_goodbye = any(text in reply for text in goodbye for reply in sent.replies)
        language = self.script.lang
        return said_goodbye and self.runtime.engine.yes_no.answer(sent.text, language) == "no"

    def check_replies(self, index: int, step: W, sent: Sent) -> None:
        joined = "\n".join(sent.replies)
        shown = sent.text if len(sent.text) <= 80 else sent.text[:77] + "..."
        for spec in step.expect:
            assert self.text_of(spec) in joined, self.where(
                f"step {index}: after {shown!r} the worker should read {spec!r} "
                f"({self.text_of(spec)[:70]!r}), got {sent.replies!r}"
            )
        if step.one_of:
            assert any(self.text_of(spec) in joined for spec in step.one_of), self.where(
                f"step {index}: after {shown!r} the worker should read one of {step.one_of!r}, "
                f"got {sent.replies!r}"
            )
        for spec in step.never:
            assert self.text_of(spec) not in joined, self.where(
                f"step {index}: after {shown!r} the worker must not read {spec!r}, "
                f"got {sent.replies!r}"
            )
        if step.quiet:
            assert not sent.replies, self.where(
                f"step {index}: nothing should be sent after {shown!r}, got {sent.replies!r}"
            )

    # -- a case handler acts --

    def web(self) -> FlaskClient:
        if self._web is None:
            self._web = handler(
                self.app, self.runtime, email=f"h-{uuid.uuid4().hex[:8]}@example.org"
            )
        return self._web

    def token(self) -> str:
        if self._token is None:
            self._token = token_for(
                self.runtime, f"api-{uuid.uuid4().hex[:8]}@example.org", "handler"
            )
        return self._token

    def handle(self, index: int, step: H) -> None:
        state = self.state()
        open_cases = [c for c in state.cases if c.status not in ("closed", "withdrawn")]
        assert open_cases, self.where(f"step {index}: the handler has no case of this worker")
        case_id = open_cases[-1].id
        self.transcript.append(f"handler> {step.canned} on case #{case_id}")
        act(self.web(), case_id, "message", canned=step.canned)
        replies = self.phone.replies()
        for reply in replies:
            self.transcript.append("   line> " + reply.replace("\n", "\n         "))
        joined = "\n".join(replies)
        for spec in step.expect:
            assert self.text_of(spec) in joined, self.where(
                f"step {index}: after the handler's {step.canned} the worker should read "
                f"{spec!r}, got {replies!r}"
            )
        # The handler opened the case (its messages are read) and wrote to the worker (a
        # request for a person is answered).
        for sent in self.sent:
            sent.handled_after = True
        self.person_pending = False

    # -- the invariants --

    def check_answered(self, sent: Sent, state: State, at_end: bool) -> None:
        """(a) The message got a reply, or a person reads it, or the report holds it."""
        message = state.messages.get(sent.sid)
        shown = sent.text if len(sent.text) <= 60 else sent.text[:57] + "..."
        when = "at the end" if at_end else f"step {sent.step}"
        assert message is not None, self.where(f"{when}: {shown!r} was not stored")
        cases = {c.id: c for c in state.cases}
        if sent.while_opted_out and sent.had_case:
            # While opted out the words still reach the worker's case, if there is one.
            assert message.case_id is not None, self.where(
                f"{when}: {shown!r}, sent while opted out, is on none of the worker's "
                f"cases {sorted(cases)}"
            )
        if sent.replies:
            return
        if sent.while_opted_out and "stop.reminder" in state.said:
            return  # silence after the once-a-day reminder is right (checked above)
        if message.case_id is not None:
            case = cases.get(message.case_id)
            read = case is not None and (
                case.unread_worker_messages > 0 or case.handover_requested_at is not None
            )
            if read or sent.handled_after:
                return
        if message.id in state.run_refs:
            return
        raise AssertionError(
            self.where(
                f"{when}: {shown!r} got no reply and nobody will read it: case "
                f"{message.case_id}, cases {[(c.id, c.unread_worker_messages) for c in state.cases]}, "
                f"not in the report in progress (refs {sorted(state.run_refs)})"
            )
        )

    def carries_nothing(self, sent: Sent) -> bool:
        """A keyword, a bare yes/no or number, only emojis or punctuation, or nothing; or,
        while opted out, a few words that are no story ("hello"), answered by the reminder."""
        if sent.media:
            return False
        text = sent.text.strip()
        if sent.while_opted_out and not story_like(text):
            return True
        if not any(ch.isalpha() for ch in text):
            return True
        word = strip_edges(text).casefold()
        for language in self.runtime.settings.languages:
            keywords = self.runtime.catalogs[language].keywords
            if any(word == k.casefold() for words in keywords.values() for k in words):
                return True
        answer = self.runtime.engine.yes_no.answer(text, self.script.lang)
        return bare_number(text) or (answer is not None and not story_like(text))

    def check_not_lost(self, state: State) -> None:
        """(b) Every message is on a case, in the report in progress, or declined; the
        worker's stories are in a case description, once."""
        kept = state.run_refs | state.draft_refs
        lost = [
            f"step {sent.step}: {sent.text[:60]!r}" + (" + media" if sent.media else "")
            for i, sent in enumerate(self.sent)
            if state.messages[sent.sid].case_id is None
            and state.messages[sent.sid].id not in kept
            and i > self.declined_upto
            and not self.carries_nothing(sent)
        ]
        assert not lost, self.where(
            f"at the end: {len(lost)} message(s) lost - on no case, not in a report in progress "
            f"(refs {sorted(kept)}), and the worker never said no: " + "; ".join(lost)
        )
        descriptions = "\n".join(state.descriptions.values())
        for words in self.script.story:
            assert words in descriptions, self.where(
                f"at the end: the worker's words {words[:60]!r} are in no case description: "
                f"{[d[:80] for d in state.descriptions.values()]!r}"
            )
            assert descriptions.count(words) == 1, self.where(
                f"at the end: the worker's words {words[:60]!r} are in the case description "
                f"{descriptions.count(words)} times: {[d[:160] for d in state.descriptions.values()]!r}"
            )

    def check_person(self, state: State, when: str) -> None:
        """(c) A case with a person requested, in the queue and in the API."""
        waiting = [c.id for c in state.cases if c.handover_requested_at is not None]
        assert waiting, self.where(
            f"{when}: the worker asked for a person, but none of their cases "
            f"{[c.id for c in state.cases]} has a person requested"
        )
        for path in ("/cases", "/cases?person=1"):
            page = self.web().get(path).get_data(as_text=True)
            assert any(f'href="/cases/{case_id}"' in page for case_id in waiting), self.where(
                f"{when}: the handlers' queue {path} does not list case {waiting}"
            )
        listing = api(self.web(), self.token(), "GET", "/cases?limit=200").json
        requested = {c["id"] for c in listing["cases"] if c["handover_requested"]}
        assert requested & set(waiting), self.where(
            f"{when}: /api/v1/cases shows no case of {waiting} with handover_requested true: "
            f"{listing['cases']!r}"
        )

    def check_outcome(self, state: State) -> None:
        script = self.script
        cases = state.cases
        if script.cases is not None:
            assert len(cases) == script.cases, self.where(
                f"at the end: the worker should have {script.cases} case(s), has "
                f"{[(c.id, c.status, c.category) for c in cases]}"
            )
        first = cases[0] if cases else None
        for name, expected in (
            ("severity", script.severity),
            ("reported_category", script.category),
            ("language", script.case_language),
        ):
            if expected is None:
                continue
            assert first is not None, self.where(f"at the end: no case to have {name} {expected}")
            assert getattr(first, name) == expected, self.where(
                f"at the end: the case's {name} should be {expected}, is {getattr(first, name)}"
            )
        if script.categories:
            assert sorted(c.category or "" for c in cases) == sorted(script.categories), self.where(
                f"at the end: categories {[c.category for c in cases]}"
            )
        if script.handover is not None:
            requested = [c.id for c in cases if c.handover_requested_at is not None]
            assert bool(requested) == script.handover, self.where(
                f"at the end: a person requested should be {script.handover}, cases {requested}"
            )
        for text in script.on_case:
            sent = next(s for s in self.sent if s.text == text)
            assert state.messages[sent.sid].case_id is not None, self.where(
                f"at the end: {text[:60]!r} (step {sent.step}) should be on a case, where a "
                f"person reads it; the worker's cases: {[c.id for c in cases]}"
            )
        if script.attachments is not None:
            assert state.attachments == script.attachments, self.where(
                f"at the end: {script.attachments} attachment(s) should be stored on the "
                f"worker's cases, found {state.attachments}"
            )

    def finish(self) -> None:
        state = self.state()
        for sent in self.sent:
            self.check_answered(sent, state, at_end=True)
        self.check_not_lost(state)
        if self.person_pending:
            self.check_person(state, "at the end")
        self.check_outcome(state)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.id for s in SCRIPTS])
def test_a_messy_worker_is_heard(
    script: Script, app: Flask, client: FlaskClient, fake_twilio: FakeTwilio, runtime: Runtime
) -> None:
    number = f"+97798{SCRIPTS.index(script):08d}"
    phone = Phone(client, fake_twilio, number, channel=script.channel)
    chat = Chat(script, phone, runtime, app, fake_twilio)
    for index, step in enumerate(script.steps):
        if isinstance(step, H):
            chat.handle(index, step)
        else:
            chat.send(index, step)
    chat.finish()


def test_the_conversations_cover_what_workers_do() -> None:
    """At least 30 conversations, each on a number of its own."""
    assert len(SCRIPTS) >= 30
    assert len({s.id for s in SCRIPTS}) == len(SCRIPTS)
