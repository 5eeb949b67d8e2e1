"""The Settings page is generated from `Settings`' field descriptions (docs/hooks/settings_page.py): every field
needs one, and the generated table lists every field. No Docker, no Redis."""
import importlib.util
from pathlib import Path

from emulator.settings import Settings

HOOK = Path(__file__).resolve().parents[2] / "docs" / "hooks" / "settings_page.py"


def test_every_setting_has_a_description():
    missing = [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()]
    assert missing == []


def test_the_settings_page_lists_every_setting():
    spec = importlib.util.spec_from_file_location("settings_page", HOOK)
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    table = hook.settings_table()
    for name in Settings.model_fields:
        assert f"| `FCEMU_{name.upper()}` |" in table
    assert "| `FCEMU_PORT` | `9000` | integer 1-65,535 | Listen port" in table
