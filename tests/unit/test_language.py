"""Segments, native digits, detection and catalogs."""

from __future__ import annotations

import pytest

from grievance.language import count_segments, detect, only_digits, to_ascii_digits
from tests.support.burmese import UNICODE_BURMESE, ZAWGYI_BURMESE


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        ("a" * 159 + "é", "GSM-7", 1),  # é is in GSM-7
        ("a" * 69 + "ñ", "GSM-7", 1),
        ("a" * 69 + "ę", "UCS-2", 1),  # one character outside GSM-7 turns it all into UCS-2
        ("a" * 70 + "ę", "UCS-2", 2),
        ("न" * 67 * 2, "UCS-2", 2),
        ("न" * (67 * 2 + 1), "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),  # an emoji outside the BMP is two UTF-16 units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments_are_counted_like_twilio(text: str, encoding: str, segments: int) -> None:
    count = count_segments(text)
    assert (count.encoding, count.segments) == (encoding, segments)


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("१२३", "123"),
        ("၁၂၃", "123"),
        ("০১২", "012"),
        ("០១២", "012"),
        ("๑๒๓", "123"),
        ("٤٥٦", "456"),
        ("۷۸۹", "789"),
        ("１２", "12"),
        # Keycap emoji, with and without the variation selector: a phone's emoji keyboard.
        ("1\ufe0f\u20e3", "1"),
        ("2\u20e3", "2"),
    ],
)
def test_native_digits(typed: str, digits: str) -> None:
    assert to_ascii_digits(typed) == digits
    assert only_digits(f" {typed} ") == digits


def test_only_digits_rejects_words() -> None:
    assert only_digits("12a") is None
    assert only_digits("") is None
    assert only_digits("1234 5678-9012") == "123456789012"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("नमस्ते मलाई मद्दत चाहियो", "ne"),
        ("ကျွန်တော့်ကို ကူညီပါ", "my"),
        ("hi I need help please", "en"),
        ("malai sahayog chahiyo", "ne"),  # romanized Nepali is not English
        ("12345", None),
        ("", None),
        ("🙏", None),
    ],
)
def test_detection_is_confident_or_silent(text: str, expected: str | None) -> None:
    assert detect(text, ["en", "ne", "my"]).language == expected


def test_detection_does_not_guess_between_languages_sharing_a_script() -> None:
    unsure = detect("नमस्ते", ["en", "ne", "hi"])  # "hello" in both Nepali and Hindi
    assert unsure.language is None
    assert unsure.alternatives == ("ne", "hi")  # a narrow question, not the whole menu
    assert detect("नमस्ते", ["en", "ne", "hi"], prior="hi").language == "hi"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("मलाई मद्दत चाहियो", "ne"),
        ("मुझे मदद चाहिए", "hi"),
        # Hindi chat with "हो", which Nepali uses as its "is": क्या and कैसे are Hindi only.
        ("क्या हो रहा", "hi"),
        ("कैसे हो", "hi"),
        ("तपाईं कहाँ हो", "ne"),
        ("مجھے مدد چاہیے", "ur"),
        ("أحتاج مساعدة", "ar"),
        ("saya tak boleh keluar", "ms"),
        ("saya tidak bisa keluar", "id"),
        ("tôi cần giúp đỡ", "vi"),
        ("hola necesito ayuda", "es"),
    ],
)
def test_languages_sharing_a_script_are_told_apart(text: str, expected: str) -> None:
    candidates = ["en", "ne", "hi", "ur", "ar", "ms", "id", "vi", "es", "tl"]
    assert detect(text, candidates).language == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Nepali's past negative in -एन and फेला ("found"): "the papers were not found".
        ("कागज फेला परेन", "ne"),
        ("मालिकले पासपोर्ट फिर्ता गरेन", "ne"),
        # Hindi's flapped ड़ and the nukta, which Nepali spelling does not write.
        ("पढ़ाई", "hi"),
        ("छोड़ो यार", "hi"),
    ],
)
def test_nepali_and_hindi_spellings_tell_them_apart(text: str, expected: str) -> None:
    assert detect(text, ["en", "ne", "hi", "ur", "id", "ms"]).language == expected


@pytest.mark.parametrize(
    "text",
    [
        "toi khong co luong",  # tôi không có lương: "I have no wages", typed without marks
        "cong ty giu ho chieu cua toi",  # "the company keeps my passport"
        "lam them gio khong duoc tra tien",  # "overtime not paid": was answered in English
    ],
)
def test_vietnamese_typed_without_its_marks_is_vietnamese(text: str) -> None:
    assert detect(text, EVERY_LANGUAGE).language == "vi"


def test_spanish_function_words_answer_short_spanish() -> None:
    # "no" and "hay" are Tagalog words too; "dinero" is Spanish only.
    assert detect("no hay dinero", EVERY_LANGUAGE).language == "es"


@pytest.mark.parametrize(
    "text", ["no me pagan", "me gusta", "hay otros", "nos deben dos meses", "el jefe nunca paga"]
)
def test_three_words_of_spanish_about_pay_are_spanish_not_tagalog(text: str) -> None:
    # "no me pagan" was answered in Tagalog: the statistical detectors lean Tagalog on it.
    assert detect(text, EVERY_LANGUAGE).language == "es"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("केही पैसा पनि दिएन", "ne"),
        ("हाम्रो तलब फेरि रोकियो", "ne"),
        ("कुछ पैसे ही दिए", "hi"),
        ("हमारा वेतन फिर रोक दिया", "hi"),
    ],
)
def test_everyday_words_tell_nepali_from_hindi(text: str, expected: str) -> None:
    assert detect(text, EVERY_LANGUAGE).language == expected


@pytest.mark.parametrize(
    "text",
    [
        "pwede ba",
        "nasaan passport",
        "talaga kuya",
        # time, amounts and need: "too big", "there is a deduction", "two months", "always late"
        "masyadong malaki",
        "mayroong bawas",
        "dalawang buwan",
        "laging late",
        "marami pong oras",
    ],
)
def test_everyday_tagalog_words_answer_short_tagalog(text: str) -> None:
    assert detect(text, EVERY_LANGUAGE).language == "tl"


def test_nepali_or_is_not_taken_for_hindi() -> None:
    # वा is Nepali's "or" (Hindi says या): "salary or money" is asked about, not answered in Hindi.
    found = detect("तलब वा पैसा", ["en", "ne", "hi"])
    assert found.language in (None, "ne")


def test_romanized_south_asian_text_is_not_english() -> None:
    # Nepali's own words decide; answered in Latin letters where the line has that catalog.
    assert detect("malai sahayog chahiyo", ["en", "ne", "hi", "my"]).language == "ne"
    assert detect("malai sahayog chahiyo", ["en", "ne", "ne-Latn", "hi"]).language == "ne-Latn"
    assert detect("amar beton dey na", ["en", "bn", "bn-Latn", "ne"]).language == "bn-Latn"
    # Hindi and Urdu share their everyday words when romanized: ask, each in its own catalog.
    found = detect("mujhe madad chahiye", ["en", "hi-Latn", "ur-Latn", "ne"])
    assert found.language is None
    assert found.alternatives == ("hi-Latn", "ur-Latn")
    # On a line with only one of them, it is that one.
    assert detect("mujhe madad chahiye", ["en", "hi", "ne"]).language == "hi"
    # Words of the group but of no one language: the question lists what the line serves.
    found = detect("namaste", ["en", "ne", "hi"])
    assert found.language is None
    assert found.alternatives == ("ne", "hi")


LINE = ["en", "ne", "hi", "ur", "bn", "id", "ms", "es", "tl", "vi", "hi-Latn"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The commonest Indonesian greeting holds Hindi's "hai".
        ("Hai, apa kabar?", "id"),
        # Spanish "hay" and "amar" are Urdu's "hay" and Bengali's "amar" in Latin letters.
        ("pueda aprender a amar, o al menos expresar amor de alguna manera", "es"),
        ("no hay trabajo y el jefe no paga", "es"),
        # Tagalog and Indonesian "gaya" (like, style) is Hindi's "gaya" (went).
        ("walang ano mang uri ng pagtatangi, gaya ng lahi, kulay, kasarian", "tl"),
    ],
)
def test_a_word_romanized_hindi_shares_with_another_language_does_not_decide(
    text: str, expected: str
) -> None:
    assert detect(text, LINE).language == expected


def test_taglish_verbs_are_tagalog() -> None:
    # Filipino workers put Tagalog verb affixes on English words: "nag-text", "i-report".
    line = ["en", "id", "ms", "es", "tl"]
    assert detect("i-report ko", line).language == "tl"
    assert detect("nag-text", line).language == "tl"
    assert detect("re-send the file", line).language == "en"


def test_a_shared_word_alone_asks_rather_than_guesses() -> None:
    # "hai" is hello in Indonesian and Malay, "is" in Hindi and Urdu, "yes" in Vietnamese: a
    # worker who sends only that picks from the whole menu; never an Urdu reply on a guess.
    found = detect("Hai", LINE)
    assert found.language is None
    assert found.alternatives == ()
    assert detect("hay", ["en", "ur", "es"]).language is None
    # With a word of its own, romanized Hindi is still found.
    assert detect("hai bhai, mujhe madad chahiye", ["en", "hi", "id"]).language == "hi"


def test_a_chosen_language_stays_whatever_the_letters() -> None:
    # A worker who chose Nepali in its script and writes in Latin letters keeps Nepali...
    assert detect("malai paisa chahiyo", ["en", "ne", "ne-Latn"], prior="ne").language == "ne"
    # ... and one who chose romanized Nepali keeps it for a short answer or a place's name.
    assert detect("ok", ["en", "ne", "ne-Latn"], prior="ne-Latn").language == "ne-Latn"
    assert detect("Al Khaleej, Doha", ["en", "ne-Latn"], prior="ne-Latn").language == "ne-Latn"
    # A confirmed English speaker's "namaste" is no reason to ask again.
    assert detect("namaste", ["en", "ne", "hi"], prior="en").language == "en"


def test_zawgyi_is_converted_and_unicode_left_alone() -> None:
    from grievance.language.zawgyi import to_unicode

    assert to_unicode(ZAWGYI_BURMESE) == (UNICODE_BURMESE, True)
    assert to_unicode(UNICODE_BURMESE) == (UNICODE_BURMESE, False)
    assert to_unicode("hello 123") == ("hello 123", False)
    assert to_unicode("") == ("", False)


def test_a_prior_holds_for_short_messages_unless_the_words_say_otherwise() -> None:
    assert detect("हो", ["ne", "hi"], prior="ne").language == "ne"
    assert detect("ठीक है", ["ne", "hi"], prior="ne").language != "ne"


# All fourteen languages the project serves, as a deployment in Malaysia might offer them.
EVERY_LANGUAGE = [
    "en",
    "ne",
    "my",
    "bn",
    "hi",
    "ur",
    "km",
    "th",
    "vi",
    "id",
    "ms",
    "tl",
    "ar",
    "es",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("majikan ambil pasport saya, gaji belum bayar", "ms"),
        ("saya kerja di kilang, majikan tak bagi cuti", "ms"),
        ("saya mahu balik kampung tapi ejen simpan pasport", "ms"),
        ("kenapa gaji saya kena potong", "ms"),
        ("agen minta biaya, paspor saya ditahan", "id"),
        ("saya bekerja di pabrik, majikan tidak kasih libur", "id"),
        ("saya mau pulang tapi agen tahan paspor", "id"),
        ("saya sakit, majikan tidak mau bawa ke dokter", "id"),
    ],
)
def test_malay_and_indonesian_are_told_apart_when_the_words_say_which(
    text: str, expected: str
) -> None:
    found = detect(text, EVERY_LANGUAGE)
    assert found.language == expected
    assert found.confidence >= 0.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Jakarta chat and Indonesian spellings a Malaysian does not write.
        ("gimana dong", "id"),
        ("saya paham", "id"),
        ("kok gaji dipotong", "id"),
        # Malaysian chat and spellings.
        ("kat mana ejen", "ms"),
        ("majikan tak faham", "ms"),
    ],
)
def test_words_only_one_of_malay_and_indonesian_writes_decide_a_short_message(
    text: str, expected: str
) -> None:
    assert detect(text, EVERY_LANGUAGE).language == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Chat with a loanword or two that another served language also writes ("lo" is
        # Spanish too, "bro" reads as Tagalog or Spanish to the statistical detectors).
        ("Baik bro, gimana kabar lo bro?", "id"),
        ("gaji aku belum dibayar bro, gimana dong", "id"),
        ("Thank you, my employer keeps my passport, please help me", "en"),
    ],
)
def test_marker_words_that_lean_three_to_one_decide_against_the_statistics(
    text: str, expected: str
) -> None:
    assert detect(text, EVERY_LANGUAGE).language == expected


@pytest.mark.parametrize(
    "text",
    ["saya perlu bantuan", "gaji belum dibayar", "saya tidak dapat gaji", "gaji saya dipotong"],
)
def test_words_both_use_get_the_narrow_question(text: str) -> None:
    found = detect(text, EVERY_LANGUAGE)
    assert found.language is None
    assert set(found.alternatives) == {"id", "ms"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("tolong saya", "ms"), ("majikan tak bayar gaji", "ms"), ("menurutmu begitu", "id")],
)
def test_a_slight_lean_between_malay_and_indonesian_is_answered_less_surely(
    text: str, expected: str
) -> None:
    # Below the margin, above the lean: the pair read each other, so the lean is answered
    # rather than asked, with less confidence than a clear case.
    found = detect(text, EVERY_LANGUAGE)
    assert found.language == expected
    assert found.confidence < detect("saya mahu balik kampung", EVERY_LANGUAGE).confidence


def test_a_confirmed_malay_or_indonesian_holds_unless_the_words_clearly_say_otherwise() -> None:
    assert detect("saya perlu bantuan", EVERY_LANGUAGE, prior="ms").language == "ms"
    assert detect("saya perlu bantuan", EVERY_LANGUAGE, prior="id").language == "id"
    # One Indonesian word does not overrule a worker who chose Malay ...
    assert detect("saya tidak bisa keluar", EVERY_LANGUAGE, prior="ms").language == "ms"
    # ... a message full of them does.
    text = "saya mau pulang tapi agen tahan paspor, tidak bisa kerja karena sakit"
    assert detect(text, EVERY_LANGUAGE, prior="ms").language == "id"


def test_a_deployment_with_only_one_of_malay_and_indonesian_answers_it() -> None:
    assert detect("saya mau pulang tapi agen tahan paspor", ["en", "ms"]).language == "ms"
    assert detect("majikan tak bayar gaji", ["en", "id"]).language == "id"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("साथीहरूलाई तलब दिइएन", "ne"),  # plural and postposition written onto the noun
        ("मालिकले पासपोर्ट लियो", "ne"),
        ("लोगों को पैसे नहीं मिले", "hi"),  # oblique plural, separate postposition
        ("मालिक ने पासपोर्ट ले लिया", "hi"),
        ("wala pa po ang sahod namin", "tl"),
        ("walang sahod kapag umuulan", "tl"),
        ("el patrón no paga", "es"),
        ("no me pagan las horas extra", "es"),  # "no" and "me" are English words too
        ("hai tháng không có lương", "vi"),  # "hai" (two) is not romanized Hindi here
    ],
)
def test_short_messages_sharing_a_script(text: str, expected: str) -> None:
    assert detect(text, EVERY_LANGUAGE).language == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("मेरो passport company ले राख्यो", "ne"),
        ("আমার salary দেয়নি 3 month", "bn"),
        ("OT payment نہیں ملا", "ur"),
        ("ကျွန်တော့် passport ကို ယူထားတယ်", "my"),
    ],
)
def test_english_words_mixed_into_a_worker_s_script_leave_that_script_in_charge(
    text: str, expected: str
) -> None:
    assert detect(text, EVERY_LANGUAGE).language == expected


def test_a_message_mostly_in_english_with_one_foreign_word_is_not_taken_for_that_language() -> None:
    found = detect("my employer took my passport and my salary नमस्ते", EVERY_LANGUAGE)
    assert found.language == "en"


def test_the_malay_indonesian_table_ships_with_its_source_and_licence() -> None:
    from importlib.resources import files

    text = files("grievance.language").joinpath("data/id_ms.tsv").read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    rows = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    assert any("wordfreq" in line for line in header)
    assert any("CC BY-SA 4.0" in line for line in header)
    assert any("scripts/build_language_data.py" in line for line in header)
    assert 10_000 <= len(rows) <= 25_000
    weights = {word: float(weight) for word, weight in rows}
    assert weights["bisa"] > 0 > weights["boleh"]  # Indonesian "can" against Malay "can"
    assert weights["karena"] > 0 > weights["kerana"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("مرحبا", "ar"),  # an Arabic greeting: no letter of Urdu's, an Arabic word
        ("السلام عليكم", "ar"),  # Arabic yeh and kaf
        ("السلام علیکم", "ur"),  # the same greeting typed with Urdu's yeh and kaf
        ("شكرا", "ar"),
        ("میری مدد کریں", "ur"),
    ],
)
def test_arabic_and_urdu_are_told_apart_on_greetings(text: str, expected: str) -> None:
    assert detect(text, ["en", "ar", "ur"]).language == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("මට උදව් කරන්න", "si"),
        ("எனக்கு உதவி வேண்டும்", "ta"),
        ("ຂ້ອຍຕ້ອງການຄວາມຊ່ວຍເຫຼືອ", "lo"),
        ("እርዳታ እፈልጋለሁ", "am"),
    ],
)
def test_corridor_languages_are_known_by_their_script(text: str, expected: str) -> None:
    assert detect(text, ["en", "si", "ta", "lo", "am", "th"]).language == expected
