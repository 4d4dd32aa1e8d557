"""`grievance flows check`: every mistake a programme officer can make, reported as file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grievance.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the real flows and catalogs to break."""
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    return tmp_path


def check(project: Path, languages: str | None = "en,ne,my", *options: str) -> tuple[int, str]:
    """``grievance flows check`` on ``project`` for ``languages`` (every catalog when None)."""
    chosen = ["--languages", languages] if languages else []
    result = CliRunner().invoke(
        main,
        [
            "flows",
            "check",
            *options,
            "--flows-dir",
            str(project / "flows"),
            "--locales-dir",
            str(project / "locales"),
            *chosen,
        ],
        env={"GRIEVANCE_LANGUAGES": ""},
    )
    return result.exit_code, result.output


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, fragment: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def test_the_shipped_flows_and_catalogs_are_clean(project: Path) -> None:
    code, output = check(project)
    assert code == 0, output
    assert "ok: 22 flows, 3 catalogs" in output
    assert "13 remediation playbooks" in output


def test_dangling_next_with_suggestion(project: Path) -> None:
    intake = project / "flows" / "intake.yaml"
    edit(intake, "    next: what_happened\n", "    next: what_hapened\n")
    code, output = check(project)
    assert code == 1
    line = line_of(intake, "next: what_hapened")
    assert (
        f"{intake}:{line}: node 'workplace' goes to 'what_hapened', which does not exist; "
        "did you mean 'what_happened'?" in output
    )
    assert "node 'what_happened' can never be reached" in output


def test_unknown_wait_type_node_setting_and_action(project: Path) -> None:
    intake = project / "flows" / "intake.yaml"
    edit(
        intake,
        "wait: {text: {min: 2, max: 200}, save_as: workplace, plausible: true}",
        "wait: {txt: {min: 2}, save_as: workplace}",
    )
    edit(intake, "    do: open_case\n", "    do: open_cse\n")
    edit(intake, "    say: [intake.goodbye]\n", "    sya: [intake.goodbye]\n")
    code, output = check(project)
    assert code == 1
    assert "unknown wait setting 'txt'; did you mean 'text'?" in output
    assert "unknown action 'open_cse'; did you mean 'open_case'?" in output
    assert (
        f"{intake}:{line_of(intake, 'sya:')}: node 'goodbye_no_report' has unknown setting 'sya'; "
        "did you mean 'say'?" in output
    )


def test_unknown_action_parameter(project: Path) -> None:
    status = project / "flows" / "status.yaml"
    edit(
        status,
        "do: {lookup_status: {code: results.argument}}",
        "do: {lookup_status: {cod: results.argument}}",
    )
    code, output = check(project)
    assert code == 1
    assert "action 'lookup_status' has no parameter 'cod' (it takes: code)" in output


def test_wait_without_other_and_route_to_unknown_category(project: Path) -> None:
    intake = project / "flows" / "intake.yaml"
    edit(
        intake,
        "    routes: {yes: full_updates, no: submit, other: submit}\n",
        "    routes: {yes: full_updates, nope: submit}\n",
    )
    code, output = check(project)
    assert code == 1
    assert (
        "node 'updates' routes 'nope', which its yes_no wait never answers; did you mean 'no'?"
        in output
    )
    assert "node 'updates' has no route for answer 'no' and no next" in output
    assert "node 'updates' waits without an 'other' route" in output


def test_duplicate_menu_number(project: Path) -> None:
    intake = project / "flows" / "intake.yaml"
    edit(
        intake,
        "- {value: FL-FEE, label: category.recruitment_fees}",
        "- {value: FL-FEE, label: category.recruitment_fees, number: 1}",
    )
    code, output = check(project)
    assert code == 1
    assert (
        f"{intake}:{line_of(intake, 'number: 1}')}: menu number 1 is used twice (also on line {line_of(intake, 'value: FL-MOV')})"
        in output
    )


def test_missing_and_extra_catalog_keys(project: Path) -> None:
    ne = project / "locales" / "ne.yaml"
    kept, dropping = [], False
    for line in ne.read_text(encoding="utf-8").splitlines(keepends=True):
        # The message and its variants (sms:, voice:) on the lines under it.
        dropping = line.startswith("  intake.ask_workplace:") or (
            dropping and line.startswith("    ")
        )
        if not dropping:
            kept.append(line)
    ne.write_text("".join(kept), encoding="utf-8")
    en = project / "locales" / "en.yaml"
    edit(en, "  intake.goodbye:", '  intake.farewell: "Bye"\n  intake.goodbye:')
    code, output = check(project)
    assert code == 1
    assert f"{ne}:1: missing message 'intake.ask_workplace' (used at " in output
    assert (
        f"{en}:{line_of(en, 'intake.farewell')}: message 'intake.farewell' is not used by any flow"
        in output
    )


def test_placeholder_mismatch(project: Path) -> None:
    my = project / "locales" / "my.yaml"
    text = my.read_text(encoding="utf-8")
    # The SMS text, under the message's key (it has a voice variant too).
    start = text.index("    sms:", text.index("  intake.case_opened:"))
    line_end = text.index("\n", start)
    broken = text[start:line_end].replace("{code}", "{kode}")
    my.write_text(text[:start] + broken + text[line_end:], encoding="utf-8")
    code, output = check(project)
    assert code == 1
    assert (
        f"{my}:{line_of(my, 'intake.case_opened')}: 'intake.case_opened' (sms) has placeholders {{kode}} but en has {{code}}"
        in output
    )


def test_keyword_collision(project: Path) -> None:
    en = project / "locales" / "en.yaml"
    edit(en, "  menu: [MENU, RESTART]", "  menu: [MENU, RESTART, HELP]")
    code, output = check(project)
    assert code == 1
    assert (
        f"{en}:{line_of(en, '  menu: [MENU')}: 'HELP' is a word for both help and menu; keep it in one"
        in output
    )


def test_yaml_mistakes_point_at_the_line(project: Path) -> None:
    intake = project / "flows" / "intake.yaml"
    edit(intake, "  goodbye:\n", "  goodbye:\n    say: [a\n")
    code, output = check(project)
    assert code == 1
    # The line with the "[" that is never closed, not the line where YAML noticed.
    opened = line_of(intake, "    say: [a")
    assert f"{intake}:{opened}: while parsing a flow sequence that starts here: " in output
    assert f"on line {opened + 1}" in output
    edit(intake, "  goodbye:\n    say: [a\n", "  goodbye:\n")
    stop = project / "flows" / "stop.yaml"
    edit(stop, "  apply:\n", "  confirm:\n    end: true\n  apply:\n")
    code, output = check(project)
    assert code == 1
    second = line_of(stop, "  apply:") - 2  # the "confirm:" written again, just above "apply:"
    assert second > line_of(stop, "  confirm:")
    assert f"{stop}:{second}: 'confirm' is written twice in the same block; keep one" in output


def test_spec_version_from_the_future(project: Path) -> None:
    help_flow = project / "flows" / "help.yaml"
    edit(help_flow, "spec_version: 1", "spec_version: 9")
    code, output = check(project)
    assert code == 1
    assert (
        f"{help_flow}:{line_of(help_flow, 'spec_version')}: spec_version 9 is newer than this grievance understands (1); upgrade grievance"
        in output
    )


def test_sms_budget_is_enforced_per_language(project: Path) -> None:
    intake = project / "flows" / "intake.yaml"
    edit(intake, "sms_budget: 4", "sms_budget: 1")
    code, output = check(project)
    assert code == 1
    assert "node 'category' costs 3 SMS segments in en (GSM-7); the budget is 1" in output
    assert "SMS segments in ne (UCS-2)" in output


def test_a_word_means_one_thing_across_languages(project: Path) -> None:
    ne = project / "locales" / "ne.yaml"
    edit(ne, "  menu: [", "  menu: [HELP, ")
    code, output = check(project)
    assert code == 1
    assert "'HELP' is a menu keyword here but a help keyword in en" in output


def test_scale_carry_and_private_mistakes(project: Path) -> None:
    wellbeing = project / "flows" / "wellbeing.yaml"
    edit(
        wellbeing,
        "scale: {min: 1, max: 5, skip: 0}, save_as: safety_1",
        "scale: {min: 1, max: 5, skip: 3}, save_as: safety_1",
    )
    edit(
        wellbeing,
        "carry: {description: results.anything_else}",
        "carry: {description: anything_else}",
    )
    edit(wellbeing, "private: true", "private: yes please")
    code, output = check(project)
    assert code == 1
    path = str(wellbeing)
    assert (
        f"{path}:{line_of(wellbeing, 'skip: 3')}: scale takes {{min: 1, max: 5, skip: 0}}: "
        "single digits, skip outside min..max"
    ) in output
    assert (
        f"{path}:{line_of(wellbeing, 'carry:')}: carry maps names in the new flow to results of "
        "this one, like {description: results.anything_else}"
    ) in output
    assert f"{path}:{line_of(wellbeing, 'private:')}: private is true or false" in output


def test_a_voice_variant_keeps_the_placeholders(project: Path) -> None:
    nepali = project / "locales" / "ne.yaml"
    text = nepali.read_text(encoding="utf-8")
    start = text.index("  wellbeing.scale:")
    voice = text.index("    voice:", start)
    end = text.index("\n", voice)
    nepali.write_text(text[:voice] + '    voice: "{press} 1"' + text[end:], encoding="utf-8")
    code, output = check(project)
    assert code == 1
    assert "'wellbeing.scale' (voice) has placeholders {press} but en has none" in output


def check_segments(project: Path, languages: str | None = "en") -> tuple[int, str]:
    """``flows check --segments`` for ``languages``, or for every catalog when None."""
    return check(project, languages, "--segments")


def test_every_catalog_meets_the_sms_cost_targets(project: Path) -> None:
    every = ",".join(sorted(p.stem for p in (project / "locales").glob("*.yaml")))
    code, output = check_segments(project, None)
    assert code == 0, output
    rows = [line.split("|") for line in output.splitlines() if line.startswith("| ")][1:]
    rows = [row for row in rows if row[1].strip() != "---"]
    assert len(rows) == len(every.split(","))
    for row in rows:
        language, segments, first = row[1].strip(), int(row[3]), int(row[4])
        assert segments <= 12, (language, segments)
        assert first <= 2, (language, first)


def test_an_intake_over_its_cost_target_points_at_the_message(project: Path) -> None:
    nepali = project / "locales" / "ne.yaml"
    text = nepali.read_text(encoding="utf-8")
    start = text.index("  intake.ask_workplace:")
    end = text.index("\n  intake.ask_what_happened:", start)  # its variants too
    long = "तपाईं कहाँ काम गर्नुहुन्छ? " * 8
    nepali.write_text(text[:start] + f'  intake.ask_workplace: "{long}"' + text[end:], "utf-8")
    code, output = check_segments(project, "en,ne")
    assert code == 1
    line = line_of(nepali, "intake.choose_category:")
    assert f"{nepali}:{line}: a whole intake costs" in output
    assert "more than the target of 12 (per message: " in output


def test_a_long_first_reply_is_refused(project: Path) -> None:
    english = project / "locales" / "en.yaml"
    edit(
        english,
        'intake.promise: "This line is confidential: your employer never sees your number."',
        'intake.promise: "' + "This line is confidential. " * 12 + '"',
    )
    code, output = check_segments(project)
    assert code == 1
    line = line_of(english, "  intake.continue_question:")
    assert f"{english}:{line}: the reply to a first message costs 3 SMS segments" in output


def test_one_curly_quote_that_doubles_the_cost_is_flagged(project: Path) -> None:
    english = project / "locales" / "en.yaml"
    edit(english, "when there is news?", "when there’s news?")
    code, output = check_segments(project)
    assert code == 1
    line = line_of(english, "  intake.ask_updates:")  # the message, above its sms text
    # One GSM-7 segment; two in UCS-2, for one apostrophe.
    assert f"{english}:{line}: 'intake.ask_updates' costs 2 SMS segments" in output
    assert "only because of '’' (UCS-2); write it without them" in output


def test_a_message_using_another_word_for_a_fixed_term_is_flagged(project: Path) -> None:
    english = project / "locales" / "en.yaml"
    edit(
        english,
        "Keep it secret; on a shared phone",
        "Keep your complaint secret; on a shared phone",
    )
    code, output = check(project)
    assert code == 1
    line = line_of(english, "  intake.case_opened:")  # the message, above its sms text
    glossary = line_of(english, "  report: {use: [report]")
    assert (
        f"{english}:{line}: 'intake.case_opened' says 'complaint' for \"report\"; this "
        f"catalog's word is 'report' (glossary, line {glossary})"
    ) in output


def test_an_unknown_glossary_term_names_the_known_ones(project: Path) -> None:
    english = project / "locales" / "en.yaml"
    edit(english, "  case: {use: [case], avoid: [file]}", "  cases: {use: [case]}")
    code, output = check(project)
    assert code == 1
    line = line_of(english, "  cases: {use: [case]}")
    assert (
        f"{english}:{line}: unknown glossary term 'cases'; the terms are report, case, "
        "case code, handler, supplier"
    ) in output


def test_a_result_list_takes_names_only(project: Path) -> None:
    wellbeing = project / "flows" / "wellbeing.yaml"
    code, output = check(project)
    assert code == 0, output  # [token, pulse]: the first name set is used
    edit(wellbeing, "wave: [wave, campaign]", "wave: [wave, 3]")
    code, output = check(project)
    assert code == 1
    assert (
        f"{wellbeing}:{line_of(wellbeing, 'wave: [wave, 3]')}: action 'wellbeing_record': 'wave' "
        "names a result, or a list of results of which the first one set is used, like "
        "[token, pulse]"
    ) in output
    edit(wellbeing, "wave: [wave, 3]", "wave: []")
    code, output = check(project)
    assert code == 1
    assert "action 'wellbeing_record': 'wave' names a result" in output


def test_a_question_asked_on_calls_needs_voice_wording(project: Path) -> None:
    english = project / "locales" / "en.yaml"
    edit(
        english,
        '    voice: "Please type your 12-digit case code."\n',
        "",
    )
    status = project / "flows" / "status.yaml"
    edit(status, "channels: [sms, whatsapp, voice]", "channels: [sms, whatsapp, voice]")
    code, output = check(project)
    assert code == 1
    assert (
        f"{english}:{line_of(english, '  status.ask_code:')}: 'status.ask_code' is asked on calls "
        f"({status}:{line_of(status, '  ask_code:')}, a flow with channels [voice]) but has no "
        "voice wording; add a voice: variant"
    ) in output
    edit(status, "channels: [sms, whatsapp, voice]", "channels: [sms, fax]")
    code, output = check(project)
    assert f"{status}:{line_of(status, 'channels:')}: channels lists where the flow runs" in output


def test_a_node_watches_only_the_kinds_it_names_and_a_wrong_kind_is_located(
    project: Path,
) -> None:
    help_flow = project / "flows" / "help.yaml"
    edit(help_flow, "watch: [danger, retaliation]", "watch: [danger, persons]")
    code, output = check(project)
    assert code == 1
    line = line_of(help_flow, "watch: [danger, persons]")
    assert f"help.yaml:{line}: unknown kind of words 'persons'; did you mean 'person'?" in output
    edit(help_flow, "watch: [danger, persons]", "watch: danger")
    code, output = check(project)
    assert f"help.yaml:{line}: watch is true, false or a list of kinds, like [danger]" in output


def test_a_phrase_asking_for_a_person_that_is_a_keyword_is_reported(project: Path) -> None:
    catalog = project / "locales" / "en.yaml"
    edit(catalog, 'person: ["talk to a person",', 'person: ["talk to a person", "menu",')
    code, output = check(project)
    assert code == 1
    assert "the person word 'menu' is a menu keyword in en" in output
