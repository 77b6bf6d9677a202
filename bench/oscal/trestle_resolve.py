"""Resolve an OSCAL profile with compliance-trestle, as one whole process.

Usage: trestle_resolve.py TRESTLE_ROOT PROFILE OUT.json

Same workload as `isms oscal resolve`: load the profile and the catalog it imports (trestle
validates both with its pydantic models while loading), resolve, write the catalog as JSON.
"""
import pathlib
import sys

from trestle.core.profile_resolver import ProfileResolver


def main() -> None:
    root, profile, out = sys.argv[1:4]
    catalog = ProfileResolver.get_resolved_profile_catalog(pathlib.Path(root), profile)
    pathlib.Path(out).write_text(catalog.oscal_serialize_json(pretty=True), encoding="utf-8")


if __name__ == "__main__":
    main()
