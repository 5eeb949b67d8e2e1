"""Converts an uploaded file between formats (csv <-> json): FC's example of slow work run asynchronously."""
import base64
import csv
import io
import json
import posixpath


def _csv_to_json(text):
    return json.dumps(list(csv.DictReader(io.StringIO(text))), indent=2)


def _json_to_csv(text):
    rows = json.loads(text)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("json input must be a list of objects")
    fields = sorted({key for row in rows for key in row})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


CONVERTERS = {("csv", "json"): _csv_to_json, ("json", "csv"): _json_to_csv}


def handler(event, context):
    request = json.loads(event)
    name = request["fileName"]
    stem, extension = posixpath.splitext(name)
    source, target = extension.lstrip(".").lower(), request["targetFormat"].lower()
    convert = CONVERTERS.get((source, target))
    if convert is None:
        raise ValueError(f"cannot convert {source} to {target}; supported: {sorted(CONVERTERS)}")
    text = base64.b64decode(request["content"]).decode()
    converted = convert(text)
    print(f"converted {name} ({len(text)} bytes) to {target} ({len(converted)} bytes)")
    return json.dumps({
        "fileName": f"{stem}.{target}",
        "format": target,
        "content": base64.b64encode(converted.encode()).decode(),
    })
