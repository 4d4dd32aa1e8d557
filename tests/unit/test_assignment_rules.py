"""Assignment rules and macros are read strictly: a mistake names the file and line, says what
is wrong and how to fix it; a good file gives the rules in order, which match as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from grievance import macros
from grievance.assignment_rules import AssignmentRulesError, CaseFacts, load_rules, matching
from grievance.cli import main
from grievance.config import ConfigError, Settings
from grievance.services import triage
from tests.conftest import DATA_KEY

GOOD = """\
spec_version: 1
rules:
  - name: burmese-fees
    when:
      languages: [my]
      categories: [FL-FEE, FL-DEBT]
    handlers: [Aung@example.org, mya@example.org]
  - name: hill
    when:
      suppliers: ["Hill  Garments Ltd"]
      sites: Hill Garments, Penang
    handlers: [hill@example.org]
  - name: everyone-else
    handlers: [duty@example.org]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "assignment.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_match_in_order_and_compare_names_loosely(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, GOOD))
    assert [r.name for r in rules] == ["burmese-fees", "hill", "everyone-else"]
    assert rules[0].handlers == ("aung@example.org", "mya@example.org")
    fees = CaseFacts(language="my", category="FL-FEE", supplier=None, site=None)
    assert [r.name for r in matching(rules, fees)] == ["burmese-fees", "everyone-else"]
    wages = CaseFacts(language="my", category="WAGE", supplier="hill garments ltd", site=None)
    assert [r.name for r in matching(rules, wages)] == ["everyone-else"]  # the site is missing
    hill = CaseFacts("en", None, "Hill Garments LTD", "hill garments,  penang")
    assert [r.name for r in matching(rules, hill)] == ["hill", "everyone-else"]
    assert load_rules(None) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: []\n", ":1: spec_version must be 1"),
        ("spec_version: 1\nrule: []\n", ":1: expected `spec_version: 1` and a `rules:` list"),
        (
            "spec_version: 1\nrules:\n  - name: a\n    handlers: [x@example.org]\n    when:\n"
            "      categories: [FEES]\n",
            ":6: rule 'a': categories: 'FEES': use category codes: FL-MOV",
        ),
        (
            "spec_version: 1\nrules:\n  - name: a\n    handlers: [x@example.org]\n    when:\n"
            "      shift: [night]\n",
            ":6: rule 'a': unknown condition 'shift'; one of languages, categories, suppliers, sites",
        ),
        (
            "spec_version: 1\nrules:\n  - name: a\n    handlers: [x@example.org, nobody]\n",
            ":4: rule 'a': 'nobody' is not an email address",
        ),
        ("spec_version: 1\nrules:\n  - name: a\n", ":3: rule 'a': list the handlers' emails"),
        (
            "spec_version: 1\nrules:\n  - name: Burmese Fees\n    handlers: [x@example.org]\n",
            ":3: name is required: lower-case letters, digits and hyphens",
        ),
        (
            "spec_version: 1\nrules:\n  - name: a\n    handlers: [x@example.org]\n"
            "  - name: a\n    handlers: [y@example.org]\n",
            ":5: rule 'a' is named twice",
        ),
        ("spec_version: 1\nrules: [\n", ":3: expected the node content"),
    ],
)
def test_mistakes_are_reported_by_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(AssignmentRulesError) as raised:
        load_rules(path)
    assert any(p.startswith(str(path)) and expected in p for p in raised.value.problems), (
        raised.value.problems
    )


def test_a_bad_rules_file_stops_the_start_with_its_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "spec_version: 1\nrules:\n  - name: a\n")
    env = {
        "SECRET_KEY": "k",
        "GRIEVANCE_DATA_KEY": DATA_KEY,
        "GRIEVANCE_ASSIGNMENT_FILE": str(path),
    }
    with pytest.raises(ConfigError, match=rf"GRIEVANCE_ASSIGNMENT_FILE:\n{path}:3: rule 'a'"):
        Settings.from_env(env, instance_path=tmp_path)
    path.write_text(GOOD, encoding="utf-8")
    assert len(Settings.from_env(env, instance_path=tmp_path).assignment_rules) == 3


def test_the_shipped_macros_are_valid_and_use_the_case_pages_canned_replies() -> None:
    shipped = macros.load()
    assert shipped
    assert set(macros.REPLIES) == set(triage.CANNED_REPLIES)
    assert all(m.reply in triage.CANNED_REPLIES for m in shipped.values())


def test_a_broken_macro_is_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "macros.yaml"
    path.write_text(
        "spec_version: 1\nmacros:\n  - id: a\n    label: Wages\n    category: WAGES\n"
        "    reply: handler.ask_more\n",
        encoding="utf-8",
    )
    with pytest.raises(macros.MacroError, match=rf"{path}:5: category: one of FL-MOV"):
        macros.load(path)


def test_flows_check_checks_the_rules_and_the_macros(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    root = Path(__file__).resolve().parents[2]
    arguments = ["flows", "check", "--flows-dir", str(root / "flows"), "--locales-dir"]
    arguments += [str(root / "locales"), "--languages", "en"]
    result = CliRunner().invoke(main, arguments, env={"GRIEVANCE_ASSIGNMENT_FILE": str(path)})
    assert result.exit_code == 0, result.output
    assert f"{len(macros.load())} macros, 3 assignment rules" in result.output
    path.write_text(GOOD.replace("[my]", "[Burmese]"), encoding="utf-8")
    result = CliRunner().invoke(main, arguments, env={"GRIEVANCE_ASSIGNMENT_FILE": str(path)})
    assert result.exit_code == 1
    assert f"{path}:5: rule 'burmese-fees': languages: 'Burmese': use BCP-47 codes" in result.output
