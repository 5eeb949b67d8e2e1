"""Reads a Serverless Devs project (`s.yaml`, edition 3.0.0 or 1.0.0) into function definitions: every resource whose
component is `fc3` (FC 3.0) becomes the definition a `functions/<name>/function.yaml` with the same props would;
the legacy `fc` component (FC 2.0) is first mapped to fc3 props by template_fc2.

The schema is the devsapp fc3 component's (docs/zh/yaml/readme.md in devsapp/fc3): top-level `edition`, `name`,
`access`, `vars`, `resources: {<name>: {component: fc3, props: {...}}}`; `props` are CreateFunctionInput fields
plus `region`, `triggers`, `asyncInvokeConfig`, `customDomain`, ... Serverless Devs' `${...}` variables are
resolved here (see `_Resolver`)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml
from pydantic import ValidationError

from emulator.catalog import code_archive
from emulator.catalog.fingerprints import FingerprintOf, fingerprint
from emulator.catalog.layers import LayerSource
from emulator.catalog.loader import FunctionDefinition, ManifestError, resolve_layers
from emulator.catalog.manifest import CUSTOM_CONTAINER, FC3_API_VERSION, FunctionManifest
from emulator.catalog.template_fc2 import FC2_COMPONENTS, LegacyError, fc3_props

TEMPLATE_NAMES = ("s.yaml", "s.yml")
FC3_COMPONENTS = frozenset({"fc3", "devsapp/fc3"})
# Props of an fc3 resource that mean nothing on one machine: accepted, listed once at start-up, never used.
# (`role` is not here: a function with a role gets fcemu's function credentials.)
NOT_EMULATED_PROPS = frozenset({
    "region", "vpcConfig", "vpcBinding", "nasConfig", "ossMountConfig", "logConfig", "customDomain", "customDNS",
    "tracingConfig", "gpuConfig", "cpu", "diskSize", "internetAccess", "tags",
    "sessionAffinity", "sessionAffinityConfig", "enableLongLiving", "idleTimeout", "instanceIsolationMode",
})
EXPRESSION = re.compile(r"\$\{([^{}]*)\}")
# `env('X')`, `env('X', 'default')`, `config('AccountID')`: a call with one or two quoted arguments.
CALL = re.compile(r"""^(\w+)\(\s*(['"])(.*?)\2\s*(?:,\s*(['"])(.*?)\4\s*)?\)$""")
PATH_PART = re.compile(r"[A-Za-z_$][\w$-]*|\[\d+\]")


class TemplateError(ManifestError):
    """A template that cannot be used; the message names the file, the line and what is wrong."""


class _Text(str):
    """A string from the template that remembers its file and line, for error messages: with `extend` a value may
    come from a parent file, and its errors must name that file."""

    line: int = 0
    file: Path | None = None


class _Loader(yaml.SafeLoader):
    file: Path | None = None


def _construct_text(loader: _Loader, node: yaml.ScalarNode) -> _Text:
    text = _Text(loader.construct_scalar(node))
    text.line = node.start_mark.line + 1
    text.file = loader.file
    return text


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_text)


@dataclass
class Template:
    """What a template gives: the definitions, and which not-emulated props it uses (by resource)."""

    source: Path
    definitions: dict[str, FunctionDefinition]
    not_emulated: dict[str, list[str]] = field(default_factory=dict)
    # What hot reload watches: the template, its .env, and every code folder or zip it names.
    watched: set[Path] = field(default_factory=set)

    def not_emulated_summary(self) -> str:
        """One line for the start-up log, '' when there is nothing to say."""
        parts = [f"{name} ({', '.join(props)})" for name, props in sorted(self.not_emulated.items()) if props]
        return f"{self.source}: accepted but not emulated: " + "; ".join(parts) if parts else ""


def find_template(folder: Path) -> Path | None:
    for name in TEMPLATE_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def _at(source: Path, value: Any) -> str:
    """Where `value` was written: its own file (a parent's, for an inherited value) and line; else `source`."""
    if isinstance(value, _Text):
        return f"{value.file or source}, line {value.line}" if value.line else str(value.file or source)
    return str(source)


class _Resolver:
    """Serverless Devs' variables: `${vars.x}`, `${env('X')}` / `${env.X}` (process environment, then a `.env`
    beside the template), `${resources.<name>.props.<path>}`, `${this.props.<path>}` / `${this.name}`, and
    `${config('AccountID')}` / `${config('Region')}` from fcemu's settings. A value that is one expression keeps
    its type (a number stays a number); expressions inside text are written into it."""

    def __init__(self, source: Path, document: dict[str, Any], env_file: dict[str, str], config: dict[str, str]):
        self._source = source
        self._document = document
        self._env_file = env_file
        self._config = {key.lower(): value for key, value in config.items()}
        self._resolving: list[str] = []

    def resolve(self, value: Any, this: str | None) -> Any:
        if isinstance(value, dict):
            return {key: self.resolve(item, this) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item, this) for item in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        whole = EXPRESSION.fullmatch(value.strip())
        if whole is not None:
            return self._evaluate(whole.group(1).strip(), value, this)

        def replace(match: re.Match[str]) -> str:
            found = self._evaluate(match.group(1).strip(), value, this)
            if isinstance(found, (dict, list)):
                self._fail(value, match.group(0), "is a mapping or list and cannot be written into text")
            return "" if found is None else str(found).lower() if isinstance(found, bool) else str(found)

        return EXPRESSION.sub(replace, value)

    def _fail(self, value: Any, expression: str, why: str) -> NoReturn:
        raise TemplateError(f"{_at(self._source, value)}: cannot resolve {expression}: {why}")

    def _evaluate(self, expression: str, value: Any, this: str | None) -> Any:
        shown = "${" + expression + "}"
        call = CALL.match(expression)
        if call is not None:
            function, argument, default = call.group(1), call.group(3), call.group(5)
            if function == "env":
                return self._env(argument, default, value, shown)
            if function == "config":
                if argument.lower() not in self._config:
                    known = ", ".join(sorted(self._config))
                    self._fail(value, shown, f"fcemu answers config() for {known} only")
                return self._config[argument.lower()]
            self._fail(value, shown, f"{function}() is not supported by fcemu")
        parts = PATH_PART.findall(expression)
        if "".join(parts) != expression.replace(".", "") or not parts:
            self._fail(value, shown, "not a variable fcemu understands (vars., env., resources., this.)")
        head, rest = parts[0], parts[1:]
        if head == "env" and len(rest) == 1:
            return self._env(rest[0], None, value, shown)
        if head == "vars":
            return self._walk(self._document.get("vars"), rest, value, shown, None, "vars")
        if head == "this":
            if this is None:
                self._fail(value, shown, "`this` is only defined inside a resource")
            return self._resource(this, rest, value, shown)
        if head in ("resources", "services") and rest:
            return self._resource(rest[0], rest[1:], value, shown)
        self._fail(value, shown, "not a variable fcemu understands (vars., env., resources., this.)")
        return None  # unreachable; _fail raises

    def _env(self, name: str, default: str | None, value: Any, shown: str) -> str:
        if name in os.environ:
            return os.environ[name]
        if name in self._env_file:
            return self._env_file[name]
        if default is not None:
            return default
        self._fail(value, shown, f"environment variable {name} is not set (nor in .env beside the template)")
        return ""

    def _resource(self, name: str, path: list[str], value: Any, shown: str) -> Any:
        resources = self._document.get("resources") or self._document.get("services") or {}
        if name not in resources:
            self._fail(value, shown, f"no resource named '{name}'")
        if path == ["name"]:
            return name
        if not path or path[0] != "props":
            self._fail(value, shown, "only a resource's name and props are known before deploying")
        return self._walk((resources[name] or {}).get("props"), path[1:], value, shown, name,
                          f"resources.{name}.props")

    def _walk(self, node: Any, path: list[str], value: Any, shown: str, this: str | None, where: str) -> Any:
        key = where + "." + ".".join(path)
        if key in self._resolving:
            self._fail(value, shown, "refers to itself (" + " -> ".join([*self._resolving, key]) + ")")
        self._resolving.append(key)
        try:
            for part in path:
                if part.startswith("[") and isinstance(node, list) and int(part[1:-1]) < len(node):
                    node = node[int(part[1:-1])]
                elif isinstance(node, dict) and part in node:
                    node = node[part]
                else:
                    self._fail(value, shown, f"{where} has no {'.'.join(path)}")
            return self.resolve(node, this)
        finally:
            self._resolving.pop()


def read_env_file(path: Path) -> dict[str, str]:
    """A dotenv file's `NAME=value` lines (optionally `export NAME=...`, values optionally quoted)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, text = line.removeprefix("export ").partition("=")
        text = text.strip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            text = text[1:-1]
        values[name.strip()] = text
    return values


def _read(source: Path) -> dict[str, Any]:
    loader = _Loader(source.read_text())
    loader.file = source
    try:
        document = loader.get_single_data()
    finally:
        loader.dispose()
    if not isinstance(document, dict):
        raise TemplateError(f"{source}: expected a Serverless Devs template (edition, name, resources)")
    return document


def _merged(source: Path, chain: list[Path]) -> dict[str, Any]:
    """The template with its `extend` chain applied: each parent (a path relative to the file that names it) is
    read, then deep-merged under its child (Serverless Devs' docs/zh/extend.md: extend2's deep copy, so mappings
    merge and a child's list or scalar replaces the parent's). `chain` holds the files read so far (resolved), child first."""
    try:
        document = _read(source)
    except (OSError, yaml.YAMLError) as error:
        raise TemplateError(f"{source}: cannot be read: {error}") from error
    chain.append(source.resolve())
    parent_name = document.pop("extend", None)
    if parent_name is None:
        return document
    if not isinstance(parent_name, str) or not parent_name:
        raise TemplateError(f"{_at(source, parent_name)}: extend must be the path of the parent template")
    parent = source.parent / parent_name
    if parent.resolve() in chain:
        cycle = " -> ".join(str(path) for path in [*chain, parent.resolve()])
        raise TemplateError(f"{_at(source, parent_name)}: extend '{parent_name}' makes a cycle ({cycle})")
    if not parent.is_file():
        raise TemplateError(f"{_at(source, parent_name)}: extend '{parent_name}' does not exist ({parent})")
    merged: dict[str, Any] = _deep_merge(_merged(parent, chain), document)  # two mappings merge into one
    return merged


def _deep_merge(parent: Any, child: Any) -> Any:
    """extend2(true, parent, child): mappings merge key by key in the parent's order (the child's new keys after),
    anything else in the child replaces the parent's value."""
    if not isinstance(parent, dict) or not isinstance(child, dict):
        return child
    merged: dict[Any, Any] = {}
    child_keys = {key: key for key in child}
    for key, value in parent.items():
        # The child's key object, so an error about a key the child restates names the child's line.
        merged[child_keys.get(key, key)] = _deep_merge(value, child[key]) if key in child else value
    for key, value in child.items():
        if key not in parent:
            merged[key] = value
    return merged


def load_template(source: Path, *, account_id: str, region: str, layers: LayerSource | None = None,
                  data_dir: Path | None = None, fingerprint_of: FingerprintOf = fingerprint) -> Template:
    """Every fc3 resource of the template as a definition; any problem is a TemplateError naming file and line.
    With `extend`, variables are resolved on the merged document; code paths and `.env` stay relative to `source`
    (the template given, as Serverless Devs resolves them against the `-t` template)."""
    chain: list[Path] = []
    document = _merged(source, chain)
    edition = str(document.get("edition", ""))
    if not edition.startswith(("3.", "1.")):
        raise TemplateError(f"{_at(source, document.get('edition'))}: edition '{edition}' is not supported; "
                            "fcemu reads edition 3.0.0 (resources) and 1.0.0 (services) templates")
    # Edition 1.0.0 names the resources `services`; 3.0.0 names them `resources`.
    key = "resources" if "resources" in document or edition.startswith("3.") else "services"
    resources = document.get(key)
    if not isinstance(resources, dict):
        raise TemplateError(f"{source}: `{key}` must be a mapping of resource names to "
                            "{component, props}")
    resolver = _Resolver(source, document, read_env_file(source.parent / ".env"),
                         {"AccountID": account_id, "Region": region})
    template = Template(source=source, definitions={},
                        watched={*chain, source.resolve(), (source.parent / ".env").resolve()})
    for name, resource in resources.items():
        at = _at(source, name)
        if not isinstance(resource, dict):
            raise TemplateError(f"{at}: resource '{name}' must be a mapping with component, props")
        component = str(resource.get("component", ""))
        if component not in FC3_COMPONENTS | FC2_COMPONENTS:
            raise TemplateError(f"{_at(source, resource.get('component'))}: resource '{name}': component "
                                f"'{component}' is not supported; fcemu runs fc3 (FC 3.0) and fc (FC 2.0) resources")
        props = resolver.resolve(resource.get("props") or {}, this=str(name))
        if not isinstance(props, dict):
            raise TemplateError(f"{at}: resource '{name}': props must be a mapping")
        legacy_ignored: list[str] = []
        if component in FC2_COMPONENTS:
            try:
                props, legacy_ignored = fc3_props(props)
            except LegacyError as error:
                raise TemplateError(f"{at}: resource '{name}': {error}") from error
        definition, ignored = _definition(source, str(name), props, at, data_dir, layers, fingerprint_of)
        ignored = sorted([*ignored, *legacy_ignored])
        if definition.name in template.definitions:
            raise TemplateError(f"{at}: functionName '{definition.name}' is defined twice")
        template.definitions[definition.name] = definition
        template.not_emulated[str(name)] = ignored
        if isinstance(props.get("code"), str):
            template.watched.add((source.parent / props["code"]).resolve())
    return template


def _definition(source: Path, name: str, props: dict[str, Any], at: str, data_dir: Path | None,
                layers: LayerSource | None = None, fingerprint_of: FingerprintOf = fingerprint
                ) -> tuple[FunctionDefinition, list[str]]:
    where = f"{at}: resource '{name}'"
    ignored = sorted(key for key in props if key in NOT_EMULATED_PROPS)
    fields = {key: value for key, value in props.items() if key not in NOT_EMULATED_PROPS and key != "code"}
    fields.setdefault("apiVersion", FC3_API_VERSION)
    try:
        manifest = FunctionManifest.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(props)'}: {item['msg']}" for item in error.errors()
        )
        raise TemplateError(f"{where}: {problems}") from error
    code_dir = _code_dir(source, name, at, props.get("code"), manifest, data_dir)
    try:
        opt_dir, layers_fingerprint = resolve_layers(manifest, layers, source)
    except ManifestError as error:
        raise TemplateError(f"{where}: {str(error).removeprefix(f'{source}: ')}") from error
    definition = FunctionDefinition(manifest=manifest, code_dir=code_dir, source=source, opt_dir=opt_dir,
                                    code_fingerprint=fingerprint_of(code_dir) + layers_fingerprint)
    return definition, ignored


def _code_dir(source: Path, name: str, at: str, code: Any, manifest: FunctionManifest,
              data_dir: Path | None) -> Path:
    where = f"{_at(source, code) if isinstance(code, _Text) else at}: resource '{name}'"
    if code is None:
        if manifest.runtime == CUSTOM_CONTAINER:
            return source.parent.resolve()  # the image holds the code; the folder only anchors the definition
        raise TemplateError(f"{where}: code is missing (a folder or zip file relative to the template)")
    if not isinstance(code, str):
        raise TemplateError(f"{where}: code from OSS (ossBucketName/ossObjectName) is not "
                            "supported by fcemu; give a local folder or zip file")
    folder = (source.parent / code).resolve()
    if folder.is_file():
        return _unpacked_zip(where, code, folder, data_dir)
    if not folder.is_dir():
        raise TemplateError(f"{where}: code folder '{code}' does not exist ({folder})")
    return folder


def unpacked_zips(data_dir: Path) -> Path:
    """Where the zips templates name are unpacked, a folder per checksum, written once."""
    return data_dir / "template-code"


def _unpacked_zip(where: str, code: str, archive: Path, data_dir: Path | None) -> Path:
    """A zip named by `code`, checked as CreateFunction's zipFile is and unpacked once into a folder keyed by its
    checksum (so an unchanged zip is not unpacked again, and an edited one gets a new folder and fingerprint)."""
    if data_dir is None:
        raise TemplateError(f"{where}: code '{code}' is a file; a zip needs fcemu's data folder to unpack into")
    try:
        data = archive.read_bytes()
        if len(data) > code_archive.MAX_ZIP_BYTES:
            raise code_archive.CodeError(f"it is {len(data)} bytes; fcemu takes at most {code_archive.MAX_ZIP_BYTES}")
        target = unpacked_zips(data_dir) / code_archive.checksum(data)
        if not target.is_dir():
            code_archive.check_zip(data)
            code_archive.unpack(data, target)
    except (OSError, code_archive.CodeError) as error:
        raise TemplateError(f"{where}: code '{code}' cannot be used as a zip: {error}") from error
    return target
