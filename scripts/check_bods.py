#!/usr/bin/env python3
"""Validates Beneficial Ownership Data Standard statements, one JSON statement a line (NDJSON, as
the register exports them), with libcovebods: what its command line `libcovebods` runs as
`jsonschemavalidate`, `additionalfields` and `pythonvalidate`, in one go.

Prints the schema errors, the fields the schema does not define and the additional checks'
results (the statistics too with --statistics), and exits 0 only when there are none of each;
1 when there are; 2 when the validator is not installed or the file is not NDJSON.

Usage: scripts/check_bods.py FILE.ndjson [--statistics]
Install the validator with scripts/install_bods_validator.sh (CI does).
"""

import argparse
import datetime
import json
import os
import sys

LIBCOVEBODS_VERSION = "0.16.0"
INSTALL = "run scripts/install_bods_validator.sh"


def fail_setup(message):
    print(f"check_bods: {message}", file=sys.stderr)
    sys.exit(2)


def load_validator():
    try:
        import importlib.metadata

        import libcove2.common
        import libcovebods.additionalfields
        import libcovebods.config
        import libcovebods.data_reader
        import libcovebods.jsonschemavalidate
        import libcovebods.run_tasks
        import libcovebods.schema
    except ImportError as e:
        fail_setup(f"libcovebods {LIBCOVEBODS_VERSION} is not installed ({e}): {INSTALL}")
    version = importlib.metadata.version("libcovebods")
    if version != LIBCOVEBODS_VERSION:
        fail_setup(f"libcovebods {version} is installed, this check wants {LIBCOVEBODS_VERSION}: {INSTALL}")
    # Without a fresh org-ids.json beside it, libcove2 fetches org-id.guide's list at run time:
    # refuse rather than depend on the network (or fail on a machine without it).
    org_ids = os.path.join(os.path.dirname(os.path.realpath(libcove2.common.__file__)), "org-ids.json")
    try:
        with open(org_ids) as f:
            downloaded = json.load(f).get("downloaded", "2000-1-1")
        fresh = datetime.datetime.strptime(downloaded, "%Y-%m-%d").date() >= datetime.date.today()
    except (OSError, ValueError):
        fresh = False
    if not fresh:
        fail_setup(f"no fresh org-id.guide list at {org_ids}: {INSTALL}")
    return libcovebods


class StatementsReader:
    """libcovebods' DataReader reads one JSON array from a file; this one gives it the statements
    already read from NDJSON. `get_all_data` is all the validator asks of a reader."""

    def __init__(self, statements):
        self._statements = statements

    def get_all_data(self):
        return self._statements


def read_ndjson(path):
    statements = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    statements.append(json.loads(line))
                except json.JSONDecodeError as e:
                    fail_setup(f"{path}:{number}: not JSON: {e}")
    except OSError as e:
        fail_setup(str(e))
    return statements


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="NDJSON file of BODS statements")
    parser.add_argument("--statistics", action="store_true", help="also print libcovebods' statistics")
    args = parser.parse_args()

    libcovebods = load_validator()
    statements = read_ndjson(args.file)
    if not statements:
        fail_setup(f"{args.file} holds no statement")
    reader = StatementsReader(statements)
    config = libcovebods.config.LibCoveBODSConfig()
    schema = libcovebods.schema.SchemaBODS(reader, config)

    schema_errors = [e.json() for e in libcovebods.jsonschemavalidate.JSONSchemaValidator(schema).validate(reader)]
    # {"/path/field": {"count", "examples", ...}}: every field of the data the schema lacks.
    additional_fields = [
        {"field": field, "count": info["count"], "examples": info["examples"]}
        for field, info in libcovebods.additionalfields.AdditionalFields(schema).process(reader).items()
        if info.get("root_additional_field")
    ]
    checks = libcovebods.run_tasks.process_additional_checks(
        reader, config, schema, libcovebods.run_tasks.TASK_CLASSES
    )
    additional_checks = checks["additional_checks"]

    def show(title, items):
        print(f"{title}: {len(items)}")
        for item in items:
            print("  " + json.dumps(item, ensure_ascii=False, default=str))

    print(f"{len(statements)} statements, BODS {schema.schema_version}, libcovebods {LIBCOVEBODS_VERSION}")
    show("schema errors", schema_errors)
    show("additional fields", additional_fields)
    show("additional checks", additional_checks)
    if args.statistics:
        print("statistics: " + json.dumps(checks["statistics"], ensure_ascii=False, default=str))
    sys.exit(1 if schema_errors or additional_fields or additional_checks else 0)


if __name__ == "__main__":
    main()
