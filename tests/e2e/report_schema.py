"""Every `nodeprint inspect|plan -o json` the e2e tests read goes through loads(): the JSON is parsed
and validated against docs/report.schema.json (JSON Schema draft 2020-12, python3-jsonschema), so a
field that the schema does not know, or of another type, fails the test that produced it."""
import json, os

import jsonschema

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           "docs", "report.schema.json")
with open(SCHEMA_PATH) as f:
    SCHEMA = json.load(f)
jsonschema.Draft202012Validator.check_schema(SCHEMA)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
validated = 0


def errors(doc):
    """The schema violations of @doc, as 'path: message' strings (empty: valid)."""
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"[:300]
            for e in VALIDATOR.iter_errors(doc)]


def loads(text):
    """json.loads(@text), raising ValueError when it violates docs/report.schema.json."""
    global validated
    doc = json.loads(text)
    errs = errors(doc)
    if errs:
        raise ValueError("output violates docs/report.schema.json: " + "; ".join(errs[:5]))
    validated += 1
    return doc
