"""Workers' scripts render on a staff machine that has no font for them: the pages serve
their own Noto fonts (scripts/vendor_fonts.py), so a Burmese worker's words are letters,
not empty boxes, on a handler's laptop in Kuala Lumpur."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.support.staff import PASSWORD
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, Server, SimPhone
from tests.web.support import new_context, open_case, screenshot_dir, signed_in_handler

pytestmark = pytest.mark.browser

# A danger report typed in Burmese from its first message (tests/flows/danger_first_message_my.yaml).
REPORT = ["ကူညီပါ အန္တရာယ်ရှိနေတယ် အခန်းထဲမှာ ပိတ်ထားတယ်", "1", "1", "1", "ရန်ကုန် အိမ်", "1", "2"]
WORKPLACE = "ရန်ကုန် အိမ်"
LATIN_ONLY = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def test_a_burmese_case_page_renders_with_the_served_font_on_a_latin_only_machine(
    browser: Browser, live_server: Server, tmp_path: Path
) -> None:
    phone = SimPhone(live_server, "burmese-fonts")
    for text in REPORT:
        phone.send(text)
        phone.replies_until("")
    state = signed_in_handler(browser, live_server, "fonts@example.org", PASSWORD)

    # A second Chromium whose fontconfig knows DejaVu only: no system font has Burmese.
    config = tmp_path / "fonts.conf"
    config.write_text(LATIN_ONLY.format(cache=tmp_path / "fc-cache"), encoding="utf-8")
    bare = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env={"FONTCONFIG_FILE": str(config)}
    )
    try:
        context = new_context(bare, live_server, storage_state=state)
        page = context.new_page()
        open_case(page, WORKPLACE)
        expect(page.get_by_text(WORKPLACE).first).to_be_visible()
        page.evaluate("document.fonts.ready")
        loaded = page.evaluate(
            "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
        )
        assert any("Noto Sans Myanmar" in family for family in loaded), loaded
        # Only what the page shows is fetched: no Khmer or Ethiopic on a Burmese case.
        assert not any("Khmer" in family or "Ethiopic" in family for family in loaded), loaded
        # What Chromium drew each text with: the workplace in the facts (which fell to the
        # system font's empty boxes while system-ui came first in the stack) and the words.
        cdp = context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        page.evaluate(
            """() => [...document.querySelectorAll('dl.facts dd')]
                .find(dd => /[\u1000-\u109f]/.test(dd.textContent)).id = 'burmese-fact'"""
        )
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        for selector in ("#burmese-fact", "blockquote"):
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
            drawn = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            burmese = [f for f in drawn if f["familyName"] == "Noto Sans Myanmar"]
            assert burmese, (selector, drawn)
            assert burmese[0]["isCustomFont"]  # the served font, not a system one
        page.screenshot(path=str(screenshot_dir(tmp_path) / "case-burmese-latin-only-machine.png"))
        context.close()
    finally:
        bare.close()
