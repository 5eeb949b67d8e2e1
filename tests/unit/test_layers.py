"""Layer resolution as pure file work: folders and zips, the first layer winning, fingerprints, clear errors."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from emulator.catalog.layers import LayerSource
from emulator.catalog.loader import ManifestError, load_functions, load_manifest

ARN = "acs:fc:cn-hangzhou:1234567890123456:layers/{}/versions/{}"


def _source(tmp_path: Path) -> LayerSource:
    return LayerSource(roots=(tmp_path / "layers",), cache_dir=tmp_path / "cache")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _function(tmp_path: Path, layers: list[str]) -> Path:
    folder = tmp_path / "functions" / "f"
    _write(folder / "index.py", "")
    _write(folder / "function.yaml", "functionName: f\nruntime: python3.10\nhandler: index.handler\nlayers:\n"
           + "".join(f"  - {arn}\n" for arn in layers))
    return folder / "function.yaml"


def test_zip_layers_unpack_and_the_first_layer_wins(tmp_path: Path) -> None:
    _write(tmp_path / "layers/a/1/python/clash.py", "first")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/clash.py", "second")
        archive.writestr("python/mine.py", "zip")
    (tmp_path / "layers/b").mkdir(parents=True)
    (tmp_path / "layers/b/2.zip").write_bytes(buffer.getvalue())
    merged, _ = _source(tmp_path).resolve([ARN.format("a", 1), ARN.format("b", 2)])
    assert merged is not None
    assert (merged / "python/clash.py").read_text() == "first"
    assert (merged / "python/mine.py").read_text() == "zip"


def test_a_bad_zip_layer_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "layers/b").mkdir(parents=True)
    (tmp_path / "layers/b/1.zip").write_bytes(b"not a zip")
    with pytest.raises(ManifestError, match="layers/b/versions/1.*not a valid zip"):
        load_manifest(_function(tmp_path, [ARN.format("b", 1)]), layers=_source(tmp_path))


def test_a_changed_layer_changes_the_function_fingerprint(tmp_path: Path) -> None:
    _write(tmp_path / "layers/a/1/python/lib.py", "v1")
    manifest = _function(tmp_path, [ARN.format("a", 1)])
    before = load_manifest(manifest, layers=_source(tmp_path))
    _write(tmp_path / "layers/a/1/python/lib.py", "version 2")
    after = load_manifest(manifest, layers=_source(tmp_path))
    assert before.code_fingerprint != after.code_fingerprint
    assert after.opt_dir is not None and (after.opt_dir / "python/lib.py").read_text() == "version 2"


@pytest.mark.parametrize("arn", [ARN.format("nosuch", 1), "acs:fc:cn-hangzhou:1:functions/x", "layers/a"])
def test_an_unknown_or_malformed_layer_is_a_manifest_error_naming_it(tmp_path: Path, arn: str) -> None:
    _function(tmp_path, [arn])
    with pytest.raises(ManifestError, match="function.yaml: layers: layer '" + arn):
        load_functions(tmp_path / "functions", _source(tmp_path))


def test_roots_are_searched_in_order_then_the_published_mirror(tmp_path: Path) -> None:
    _write(tmp_path / "first/a/1/python/who.py", "first root")
    _write(tmp_path / "second/a/1/python/who.py", "second root")
    _write(tmp_path / "second/b/2/python/who.py", "only in the second root")
    source = LayerSource(roots=(tmp_path / "first", tmp_path / "second"), cache_dir=tmp_path / "cache")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/who.py", "published")
    (source.published_dir / "c").mkdir(parents=True)
    (source.published_dir / "c/5.zip").write_bytes(buffer.getvalue())
    for arn, expected in [(ARN.format("a", 1), "first root"), (ARN.format("b", 2), "only in the second root"),
                          (ARN.format("c", 5), "published")]:
        merged, _ = source.resolve([arn])
        assert merged is not None and (merged / "python/who.py").read_text() == expected
    assert set(source.local_versions("a")) == {1} and source.local_versions("c") == {}, "the mirror is not local"
    assert source.local_names() == {"a", "b"}


def test_a_served_templates_layers_folder_comes_after_the_layers_dir(tmp_path: Path) -> None:
    from emulator.catalog.sources import layer_source
    from emulator.settings import Settings

    (tmp_path / "project").mkdir()
    (tmp_path / "project/s.yaml").write_text("edition: 3.0.0\nresources: {}\n")
    source = layer_source(Settings(layers_dir=tmp_path / "layers", template=tmp_path / "project/s.yaml",
                                   data_dir=tmp_path / "data"))
    assert source.roots == ((tmp_path / "layers").resolve(), (tmp_path / "project/layers").resolve())
