"""Hypothesis strategies for requests to fcemu, driven by the OpenAPI document it publishes.

Each case is one HTTP request to one operation: path parameters drawn from names that exist (so that deeper code
runs) and from hostile text; query parameters and headers valid by the document or hostile (non-ASCII, superscript
digits, 5,000-digit numbers); a body valid by FC's model, the same with one field made null or of the wrong type,
JSON of the wrong shape, or bytes that are not JSON at all.
"""
from __future__ import annotations

import base64
import io
import json
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

Schema = dict[str, Any]

# Text that str.isdigit() or int() take differently from what a parser expects.
HOSTILE_NUMBERS = ["²", "⁵", "½", "١٢", "٣", "-1", "0", "00", "+5", " 5", "5 ", "1e3", "0x10", "1_000", "3601",
                   "9" * 20, "9" * 5000]
HOSTILE_TEXT = [
    "", " ", "1", "null", "true", "NaN", "Infinity", "..", ".", "%", "%00", "%2F", "a/b", "$", "a$b", "default.1", "é",
    "日本語", "😀", "\u202e", "\u00a0", "\\", "'", '"', "<x>", "a" * 300, "LATEST", "Async", "Tail",
]
HOSTILE_JSON: list[Any] = [
    None, True, False, 0, -1, 1.5, 10**30, -(2**63), 2**64, 1e308, "", "²", "9" * 5000, "x" * 2000, [], [None],
    {}, {"": None}, [[[[[]]]]], {"a": {"b": {"c": None}}},
]
# What a field of any type may be replaced with: null (an absent field, to FC) or another JSON type.
WRONG_TYPES: list[Any] = [None, None, None, 1, -1, 1.5, 10**30, True, "", "x", "²", "9" * 5000, [], {}, [None]]
NOT_JSON = [b"", b"{", b"}", b"[1,", b"nul", b"\xff\xfe\x00", b"\x00" * 16, b"{'a': 1}", b'{"a": NaN}',
            b'{"a": 1e999999}', b"\xef\xbb\xbf{}", b"a=1&b=2", b"--x\r\nContent-Disposition: form-data\r\n\r\n"]
CONTENT_TYPES = ["application/json", "application/json", "application/json; charset=latin-1", "text/plain",
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream",
                 "é/²", ""]
# Headers fcemu's agent contract uses between it and the instance: no client may set them.
CONTRACT_HEADERS = ["x-fc-function-handler", "x-fc-control-path", "x-fc-function-name", "x-fc-qualifier",
                    "x-fc-access-key-id", "x-fc-region", "x-fc-memory", "x-fc-timeout"]


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return base64.b64encode(buffer.getvalue()).decode()


HANDLER = b"def handler(event, context):\n    return event\n"
GOOD_ZIP = _zip({"index.py": HANDLER})
CONFLICTING_ZIP = _zip({"a": b"file", "a/b": b"under a file"})
ZIP_FILES = [
    GOOD_ZIP, GOOD_ZIP, GOOD_ZIP,
    _zip({"index.py": HANDLER, "lib/util.py": b"X = 1\n"}),
    _zip({}),
    _zip({"../evil.py": b""}),
    _zip({"/abs.py": b""}),
    _zip({"index.py": HANDLER}, zipfile.ZIP_BZIP2),
    _zip({"index.py": HANDLER}, zipfile.ZIP_LZMA),
    CONFLICTING_ZIP,
    base64.b64encode(b"PK\x03\x04 not really a zip").decode(),
    GOOD_ZIP[: len(GOOD_ZIP) // 2],
    "not base64 !",
    "",
]

# Names that exist, or that cases create, so that requests get past the lookups; the rest are hostile.
NAMES: dict[str, list[str]] = {
    "function_name": ["hello", "echo", "web", "fail", "fuzz-fn", "fuzz-fn", "nope"],
    "functionName": ["fuzz-fn", "fuzz-fn", "fuzz_fn2", "hello"],
    "service": ["default", "default", "fuzz-svc", "fuzz-svc", "default.LATEST", "default.1", "default.prod", "nope"],
    "serviceName": ["fuzz-svc", "fuzz-svc", "default"],
    "task_id": ["fuzz-task", "fuzz_task_2", "nope"],
    "trigger_name": ["fuzz-trigger", "web-http", "nope"],
    "triggerName": ["fuzz-trigger", "fuzz-trigger", "fuzz_timer"],
    "triggerType": ["timer", "http", "http", "oss", ""],
    "kind": ["queues", "topics", "nope"],
    "name": ["fuzz-q", "nope"],
    "path": ["", "a", "a/b/c", "boom", "é"],
    "runtime": ["python3.10", "python3.10", "python3.9", "custom.debian10", "custom-container", "nodejs18", ""],
    "handler": ["index.handler", "index.handler", "index.nope", "nope"],
    "image": ["fcemu/runtime-python3:latest"],  # never another: docker would try to pull it
    "destination": ["acs:fc:cn-hangzhou:1234567890123456:functions/echo", "acs:mns:cn-hangzhou:1:/queues/fuzz-q",
                    "http://127.0.0.1:9/", "http://a..b/", "nope"],
    "x-fc-invocation-type": ["Async", "Async", "Sync", "async"],
    "x-fc-async-task-id": ["fuzz-task", "fuzz_task_2"],
    "x-fc-stateful-async-invocation-id": ["fuzz-task", "fuzz_task_2"],
}
# Path parameters that go together (a task of that function, a trigger of that function, ...).
CONSISTENT_PATHS: list[dict[str, str]] = [
    {"service": "default", "function_name": "echo", "task_id": "fuzz-task", "trigger_name": "nope"},
    {"service": "default.LATEST", "function_name": "echo", "task_id": "fuzz_task_2"},
    {"service": "fuzz-svc", "function_name": "fuzz-fn", "trigger_name": "fuzz-trigger", "path": "a/b"},
    {"service": "default", "function_name": "web", "trigger_name": "web-http", "path": "a/b", "task_id": "nope"},
    {"service": "default", "function_name": "web", "trigger_name": "web-http", "path": "boom"},
    {"service": "default", "function_name": "hello", "path": "", "trigger_name": "fuzz-trigger"},
    {"service": "default", "function_name": "fail", "task_id": "fuzz-task"},
    {"kind": "queues", "name": "fuzz-q"},
]
# Keys whose values must keep being one of NAMES even in a malformed case (a string elsewhere would be pulled).
PINNED_STRINGS = frozenset({"image"})


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: list[Schema]
    body: Schema | None  # the JSON schema of a JSON body; None for any bytes
    json_body: bool

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass
class Case:
    operation: Operation
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, bytes]
    body: bytes
    json: Any = field(default=None)  # the body before it was encoded, when it is JSON

    @property
    def target(self) -> str:
        return self.path + ("?" + urllib.parse.urlencode(self.query, quote_via=urllib.parse.quote) if self.query else "")

    def describe(self) -> str:
        headers = {name: value.decode("latin-1") for name, value in self.headers.items()}
        body = self.body[:300].decode("utf-8", "replace")
        return f"{self.operation.method.upper()} {self.target[:300]} headers={headers} body={body!r}"


class Document:
    """The operations of an OpenAPI document, with its $refs resolved."""

    def __init__(self, document: Schema) -> None:
        self._schemas: dict[str, Schema] = document.get("components", {}).get("schemas", {})
        self.operations: list[Operation] = []
        for path, methods in document["paths"].items():
            for method, operation in methods.items():
                body = None
                json_body = False
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    body, json_body = self.resolve(content["application/json"]["schema"]), True
                self.operations.append(Operation(method, path, operation.get("parameters", []), body, json_body))

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = self._schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema


def _text(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(max_size=max_size)


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.sampled_from(HOSTILE_TEXT), _text())


class Strategies:
    """Strategies for one document's values: valid ones (by schema) and hostile ones."""

    def __init__(self, document: Document) -> None:
        self._document = document

    def valid(self, schema: Schema, name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
        schema = self._document.resolve(schema)
        pool = NAMES.get(name)
        if pool and schema.get("type", "string") == "string":
            if name in PINNED_STRINGS or "pattern" not in schema:
                return st.sampled_from(pool)
            # A name that exists (for updates and conflicts) or a new one (for creations).
            return st.one_of(st.sampled_from(pool), st.from_regex(schema["pattern"], fullmatch=True))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return st.one_of([self.valid(option, name, depth) for option in schema[key]])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        kind = schema.get("type")
        if kind == "string":
            return self._string(schema, depth)
        if kind == "integer":
            lowest, highest = schema.get("minimum"), schema.get("maximum")
            step = schema.get("multipleOf")
            if step:
                return st.integers(-(-(lowest or 0) // step), (highest or 10**6) // step).map(lambda n: n * step)
            return st.integers(lowest, highest)
        if kind == "number":
            return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
        if kind == "boolean":
            return st.booleans()
        if kind == "array":
            return st.lists(self.valid(schema.get("items", {}), name, depth + 1), min_size=schema.get("minItems", 0),
                            max_size=3)
        if kind == "object" or "properties" in schema:
            return self._object(schema, depth)
        return self.json_value()

    def _string(self, schema: Schema, depth: int) -> st.SearchStrategy[str]:
        if "contentSchema" in schema:  # a JSON document carried as a string (FC 3.0's triggerConfig)
            return self.valid(schema["contentSchema"], "", depth + 1).map(json.dumps)
        if schema.get("contentEncoding") == "base64":
            return st.sampled_from(ZIP_FILES)
        if "examples" in schema:
            return st.sampled_from(schema["examples"])
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return _text(schema.get("maxLength", 40))

    def _object(self, schema: Schema, depth: int) -> st.SearchStrategy[dict[str, Any]]:
        properties: dict[str, Schema] = schema.get("properties", {})
        if not properties:
            extra = schema.get("additionalProperties")
            values = self.valid(extra, "", depth + 1) if isinstance(extra, dict) else self.json_value()
            return st.dictionaries(_text(12), values, max_size=3)
        required = set(schema.get("required", []))
        if depth > 2:
            properties = {key: value for key, value in properties.items() if key in required}
        return st.fixed_dictionaries(
            {key: self.valid(value, key, depth + 1) for key, value in properties.items() if key in required},
            optional={key: self.valid(value, key, depth + 1) for key, value in properties.items()
                      if key not in required},
        )

    def json_value(self) -> st.SearchStrategy[Any]:
        scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                            hostile_text())
        return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                              st.dictionaries(_text(8), inner, max_size=3)),
                            max_leaves=6)

    def hostile_json(self) -> st.SearchStrategy[Any]:
        return st.one_of(st.none(), st.sampled_from(HOSTILE_JSON), self.json_value())

    @st.composite
    def corrupted(draw: st.DrawFn, self: Strategies, value: Any, schema: Schema) -> Any:
        """`value` with one field (one the model knows, anywhere in it) null or of the wrong type, or hostile."""
        schema = self._document.resolve(schema)
        if isinstance(value, dict) and draw(st.integers(0, 3)) > 0:
            key = draw(st.sampled_from(sorted(set(value) | set(schema.get("properties", {}))) or ["unknownField"]))
            inner = schema.get("properties", {}).get(key, {})
            if isinstance(value.get(key), dict | list) and value[key] and draw(st.booleans()):
                return {**value, key: draw(self.corrupted(value[key], inner))}
            wrong = [item for item in WRONG_TYPES if not isinstance(item, str)] if key in PINNED_STRINGS else WRONG_TYPES
            return {**value, key: draw(st.sampled_from(wrong))}
        if isinstance(value, list) and value and draw(st.booleans()):
            index = draw(st.integers(0, len(value) - 1))
            item = draw(self.corrupted(value[index], schema.get("items", {})))
            return [*value[:index], item, *value[index + 1:]]
        return draw(self.hostile_json())

    def body(self, operation: Operation) -> st.SearchStrategy[tuple[bytes, Any, str | None]]:
        """(bytes, the JSON they encode if any, content type or None)."""
        garbage = st.tuples(st.one_of(st.sampled_from(NOT_JSON), st.binary(max_size=64)), st.none(),
                            st.sampled_from([*CONTENT_TYPES, None]))
        if not operation.json_body:
            if operation.method in ("get", "delete", "head"):
                return st.one_of(st.just((b"", None, None)), st.just((b"", None, None)), garbage)
            return st.one_of(st.tuples(st.binary(max_size=200), st.none(), st.none()),
                             self._encoded(self.json_value(), st.just("application/json")), garbage)
        assert operation.body is not None
        schema = operation.body
        valid = self.valid(schema)
        content_type = st.sampled_from(CONTENT_TYPES)
        return st.one_of(
            self._encoded(valid, st.just("application/json")),
            self._encoded(valid.flatmap(lambda value: self.corrupted(value, schema)), content_type),
            self._encoded(valid.flatmap(lambda value: self.corrupted(value, schema)), st.just("application/json")),
            self._encoded(self.hostile_json(), content_type),
            garbage,
        )

    def valid_body(self, operation: Operation) -> st.SearchStrategy[tuple[bytes, Any, str | None]]:
        if operation.json_body:
            assert operation.body is not None
            return self._encoded(self.valid(operation.body), st.just("application/json"))
        if operation.method in ("get", "delete", "head"):
            return st.just((b"", None, None))
        return st.one_of(st.tuples(st.binary(max_size=100), st.none(), st.none()),
                         self._encoded(self.json_value(), st.just("application/json")))

    @staticmethod
    def _encoded(values: st.SearchStrategy[Any], content_type: st.SearchStrategy[str]
                 ) -> st.SearchStrategy[tuple[bytes, Any, str | None]]:
        return st.tuples(values, content_type).map(lambda pair: (json.dumps(pair[0]).encode(), pair[0], pair[1]))

    def parameter_value(self, parameter: Schema) -> st.SearchStrategy[str]:
        schema = self._document.resolve(parameter.get("schema", {}))
        return self.valid(schema, parameter["name"]).map(lambda v: v if isinstance(v, str) else json.dumps(v))

    @st.composite
    def case(draw: st.DrawFn, self: Strategies, operation: Operation) -> Case:
        """A request valid but for at most one part (a parameter, an extra header, the body): a hostile value
        everywhere at once would stop every case at the first check."""
        parameters = operation.parameters
        spots = ["none", "none", "extra header", "extra query", *(["body"] * (8 if operation.json_body else 3))]
        spots += [f"parameter {index}" for index in range(len(parameters))]
        hostile = draw(st.sampled_from(spots))
        names = [parameter["name"] for parameter in parameters if parameter["in"] == "path"]
        path_values = draw(st.sampled_from([values for values in CONSISTENT_PATHS if set(names) <= set(values)]
                                           or [{}]))
        path = operation.path
        query: list[tuple[str, str]] = []
        headers: dict[str, bytes] = {}
        for index, parameter in enumerate(parameters):
            where, name = parameter["in"], parameter["name"]
            is_hostile = hostile == f"parameter {index}"
            if where == "path":
                value = draw(hostile_text()) if is_hostile else path_values.get(name) or draw(
                    st.sampled_from(NAMES.get(name, ["x"])))
                path = path.replace("{" + name + "}", urllib.parse.quote(value, safe="/" if name == "path" else ""))
                continue
            if not is_hostile and not draw(st.booleans()):  # an optional parameter: present in half the cases
                continue
            value = draw(hostile_text() if is_hostile else self.parameter_value(parameter))
            if where == "query":
                query.append((name, value))
            elif where == "header":
                headers[name] = _header_bytes(value)
        if hostile == "extra header":
            name = draw(st.sampled_from([*CONTRACT_HEADERS, "date", "x-acs-date", "x-fc-date", "authorization",
                                         "x-fc-invocation-type", "x-fc-async-delay"]))
            headers[name] = _header_bytes(draw(hostile_text()))
        if hostile == "extra query":
            query.append((draw(st.sampled_from(["qualifier", "nextToken", "limit", "x"])), draw(hostile_text())))
        if hostile == "body":
            body, value, content_type = draw(self.body(operation))
        else:
            body, value, content_type = draw(self.valid_body(operation))
        if content_type is not None:
            headers["content-type"] = _header_bytes(content_type)
        return Case(operation, path, query, headers, body, value)


def _header_bytes(value: str) -> bytes:
    """What a client puts on the wire: latin-1 when it can, else UTF-8 bytes. No control characters: the HTTP
    server refuses them before fcemu sees the request, so they would test only the server."""
    value = "".join(char for char in value if char == "\t" or not (ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0))
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")
