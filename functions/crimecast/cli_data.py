"""Data commands: `crimecast synth`, `crimecast ingest`, `crimecast validate`."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("synth", help="generate deterministic synthetic data in the contract",
                       description="Write crime_rate_dataset.csv, event_holiday_data.csv, weather.csv, districts.csv, "
                                   "truth_intensity.csv (and images/, videos/ when asked) into --out.")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--districts", type=int, default=12)
    p.add_argument("--categories", nargs="+", default=None, help="category names (default: 6 common ones)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", default="2021-01-01", help="first day (YYYY-MM-DD)")
    p.add_argument("--images-per-class", type=int, default=0, help="synthetic surveillance images per risk class")
    p.add_argument("--videos", type=int, default=0, help="synthetic mp4 clips with per-frame labels")
    p.set_defaults(func=_synth)

    p = sub.add_parser("ingest", help="aggregate a one-row-per-incident export into daily counts",
                       description="Streams the export; keeps per-incident lat/lon in a side Parquet file when given.")
    p.add_argument("incidents", nargs="?", help="incident export (CSV; optional with --save-config)")
    p.add_argument("--out", help="counts file to write (.csv or .parquet)")
    p.add_argument("--date-col", required=True)
    p.add_argument("--district-col", required=True)
    p.add_argument("--category-col", required=True)
    p.add_argument("--lat-col")
    p.add_argument("--lon-col")
    p.add_argument("--timezone", help="IANA zone for timestamps with a UTC offset (e.g. America/Chicago)")
    p.add_argument("--category-map", help="CSV with columns raw,category (case-insensitive raw values)")
    p.add_argument("--date-format", help="strftime format, e.g. '%%m/%%d/%%Y %%I:%%M:%%S %%p' (faster, stricter)")
    p.add_argument("--incidents-out", help="side Parquet with date,district,category,lat,lon "
                                           "(default: <out>.incidents.parquet when --lat-col is given)")
    p.add_argument("--delimiter", default=",")
    p.add_argument("--id-col", help="incident id column: the last row of each id wins (corrections, overlaps)")
    p.add_argument("--save-config", metavar="FILE", help="write these flags as the feed's config/ingest.json "
                   "(validated; the category map is inlined); with no export given, only that")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_ingest)

    p = sub.add_parser("validate", help="check any contract table and print a summary")
    p.add_argument("file")
    p.add_argument("--kind", choices=["counts", "events", "weather", "districts", "truth", "labels"],
                   help="table kind (default: guessed from the columns)")
    p.add_argument("--counts", help="counts file, to check event districts against")
    p.set_defaults(func=_validate)


def _synth(args: argparse.Namespace) -> int:
    from crimecast.synth import DEFAULT_CATEGORIES, SynthConfig, generate

    cfg = SynthConfig(years=args.years, districts=args.districts,
                      categories=tuple(args.categories) if args.categories else DEFAULT_CATEGORIES,
                      seed=args.seed, start=args.start, images_per_class=args.images_per_class, videos=args.videos)
    summary = generate(args.out, cfg)
    print(json.dumps(summary, indent=2, default=str))
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from crimecast.ingest import ingest

    if args.save_config:
        from crimecast.feed.config import config_from_flags

        Path(args.save_config).write_text(config_from_flags(args).to_json(), encoding="utf-8")
        print(f"wrote {args.save_config} (upload it as config/ingest.json in the data bucket)", file=sys.stderr)
        if not args.incidents:
            return 0
    if not (args.incidents and args.out):
        raise ValueError("give the export and --out (or only --save-config FILE)")
    if args.id_col:
        from crimecast.feed.ingest_file import ingest_with_ids

        print(json.dumps(ingest_with_ids(args), indent=2))
        return 0
    inc_out = args.incidents_out
    if args.lat_col and not inc_out:
        inc_out = str(Path(args.out).with_suffix("")) + ".incidents.parquet"
    rep = ingest(args.incidents, args.out, date_col=args.date_col, district_col=args.district_col,
                 category_col=args.category_col, lat_col=args.lat_col, lon_col=args.lon_col, timezone=args.timezone,
                 category_map=args.category_map, date_format=args.date_format, incidents_out=inc_out,
                 delimiter=args.delimiter, progress=not args.quiet)
    d = rep.as_dict()
    print(json.dumps(d, indent=2))
    if rep.rejected:
        print(f"warning: {sum(rep.rejected.values())} of {rep.rows_read} rows were not counted: "
              f"{dict(rep.rejected)}", file=sys.stderr)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from crimecast.contract import guess_kind, read_table

    kind = args.kind or guess_kind(args.file)
    known = None
    if kind == "events" and args.counts:
        known = set(read_table(args.counts, "counts")["district"])
    df = read_table(args.file, kind, **({"known_districts": known} if kind == "events" else {}))
    summary: dict[str, object] = {"file": args.file, "kind": kind, "rows": len(df), "columns": list(df.columns)}
    if "date" in df.columns:
        summary["start"], summary["end"] = str(df["date"].min().date()), str(df["date"].max().date())
    if kind == "counts":
        summary["series"] = int(df.groupby(["district", "category"]).ngroups)
        summary["total_count"] = int(df["count"].sum())
        summary["zero_share"] = round(float((df["count"] == 0).mean()), 4)
    print(json.dumps(summary, indent=2))
    return 0
