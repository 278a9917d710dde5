"""How long `share export` takes, and what stix2's own pretty printer would cost instead.

    python -m benchmarks.sharing.export_speed --detect DIR --lake LAKE [--pretty]

Builds the bundle of a detect run (keyed fingerprints, STIX objects) and writes it as
`share export` does (`stix.dumps`); with --pretty, also times stix2's
`serialize(pretty=True)`, which export used before: its property ordering grows with the
square of the bundle.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from distillguard.sharing import keys, stix
from distillguard.sharing.export import ExportOptions, build_bundle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--detect", type=Path, required=True)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--pretty", action="store_true", help="also time stix2's pretty form")
    args = parser.parse_args()
    start = time.perf_counter()
    bundle = build_bundle(args.detect, keys.generate(), ExportOptions(), args.lake).bundle
    built = time.perf_counter()
    text = stix.dumps(bundle)
    written = time.perf_counter()
    result = {
        "objects": len(bundle.objects),
        "build_s": round(built - start, 3),
        "dumps_s": round(written - built, 3),
        "bytes": len(text),
    }
    if args.pretty:
        pretty = bundle.serialize(pretty=True)
        result["stix2_pretty_s"] = round(time.perf_counter() - written, 3)
        result["same_json"] = json.loads(pretty) == json.loads(text)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
