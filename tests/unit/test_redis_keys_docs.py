"""The docs' table of Redis keys is generated from emulator/redis_io/keys.py (docs/hooks/redis_keys_page.py): every
name there needs a description, and the table lists every key and channel. No Docker, no Redis."""
import importlib.util
import inspect
from pathlib import Path

from emulator.redis_io import keys

DOCS = Path(__file__).resolve().parents[2] / "docs"
HOOK = DOCS / "hooks" / "redis_keys_page.py"


def _hook():
    spec = importlib.util.spec_from_file_location("redis_keys_page", HOOK)
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return hook


def test_every_name_has_a_description():
    documented = _hook().documented_names()
    assert [entry.name for entry in documented if not entry.doc.strip()] == []
    # The hook reads the file's source: it must see every public name the module defines.
    defined = {name for name, value in vars(keys).items() if not name.startswith("_") and not inspect.ismodule(value)
               and getattr(value, "__module__", keys.__name__) == keys.__name__}
    assert defined <= {entry.name for entry in documented}


def test_the_table_lists_every_key_and_channel():
    hook = _hook()
    table = hook.keys_table()
    listed = [entry.name for entry in hook.documented_names() if entry.doc.partition(":")[0] in keys.KINDS]
    for name in listed:
        assert f"| `{name}` |" in table
    assert len(table.splitlines()) == len(listed) + 2
    assert "| `fcemu:{sN}:task:<function>/<taskId>` | hash | the task record" in table
    assert "| `fcemu:{deployments}:code:*` | string |" in table
    assert "| `fcemu:triggers-changed` | channel |" in table


def test_the_pages_hold_the_marker():
    assert "<!-- redis-keys -->" in (DOCS / "architecture.md").read_text()
    assert "<!-- redis-keys log -->" in (DOCS / "logs.md").read_text()
    assert "| `fcemu:logs` | channel |" in _hook().keys_table("log")
