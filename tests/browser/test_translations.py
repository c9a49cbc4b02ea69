"""Every language of the page is complete, and its layout takes right-to-left languages.

No browser needed: the translation files are JSON, and the registry in ``js/i18n.js`` is
the one list a new language is added to.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "services" / "intake" / "web"
I18N = WEB / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def registered_languages() -> list[str]:
    source = (WEB / "js" / "i18n.js").read_text()
    block = source[source.index("export const LANGUAGES") : source.index("];")]
    return re.findall(r'code: "([a-z-]+)"', block)


def strings(code: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((I18N / f"{code}.json").read_text(encoding="utf-8"))
    return data


def test_english_japanese_and_spanish_are_registered_and_each_has_a_file() -> None:
    languages = registered_languages()
    assert {"en", "ja", "es"} <= set(languages)
    assert sorted(languages) == sorted(path.stem for path in I18N.glob("*.json"))


@pytest.mark.parametrize("code", registered_languages())
def test_every_language_has_every_english_key_with_the_same_placeholders(code: str) -> None:
    english = strings("en")
    translated = strings(code)
    missing = sorted(set(english) - set(translated))
    assert not missing, f"{code}.json lacks {missing}"
    extra = sorted(set(translated) - set(english))
    assert not extra, f"{code}.json has keys English does not: {extra}"
    for key, text in english.items():
        assert translated[key].strip(), f"{code}: {key} is empty"
        assert set(PLACEHOLDER.findall(translated[key])) == set(PLACEHOLDER.findall(text)), (
            f"{code}: {key} has different placeholders"
        )


def test_every_key_the_page_uses_is_translated() -> None:
    english = strings("en")
    html = (WEB / "index.html").read_text()
    used = set(re.findall(r'data-i18n="([^"]+)"', html))
    for script in (WEB / "js").glob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([^"]+)"', script.read_text()))
    assert not sorted(used - set(english)), "keys used by the page but missing from en.json"


def test_layout_uses_logical_properties_so_right_to_left_works() -> None:
    css = (WEB / "app.css").read_text()
    physical = re.findall(
        r"(?:margin|padding|border)-(?:left|right)|(?<![-\w])(?:left|right)\s*:|text-align:\s*(?:left|right)|float:\s*(?:left|right)",
        css,
    )
    assert not physical, f"physical (left/right) CSS breaks right-to-left layouts: {physical}"
