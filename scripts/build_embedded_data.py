"""Build the embedded real default in data/chicago/ and data/samples/ from ../shared/data (run once, committed).

    .venv/bin/python scripts/build_embedded_data.py [--shared ../shared/data]

Deterministic: the same inputs give byte-identical files (gzip without a timestamp, sorted rows), so a
rebuild shows up in git only when the inputs changed. What each file holds: data/chicago/README.md,
data/samples/ATTRIBUTION.md.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

START = "2010-01-01"
# A handful of real images whose licences allow redistribution (surv-fight: MIT; graffiti: CC BY 4.0).
SAMPLE_SOURCES = {"surv-fight": ("high", "low"), "graffiti": ("medium", "low")}
PER_CLASS = 3
SAMPLE_CLIP = "surv-fight_high_fi040.mp4"


def write_csv_gz(df, path: Path) -> str:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    raw = buf.getvalue().encode("utf-8")
    with open(path, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_chicago(shared: Path, out: Path) -> None:
    import pandas as pd
    from crimecast.chicago import load_counts, load_events, load_weather

    root = shared / "real" / "chicago"
    out.mkdir(parents=True, exist_ok=True)
    for level, name in (("district", "counts_by_district.csv.gz"), ("category", "counts_by_category.csv.gz")):
        c = load_counts(root, level)
        c = c[c["date"] >= pd.Timestamp(START)].copy()
        c["date"] = c["date"].dt.strftime("%Y-%m-%d")
        c = c.sort_values(["date", "district", "category"])[["date", "district", "category", "count"]]
        print(name, len(c), c["date"].min(), c["date"].max(), write_csv_gz(c, out / name)[:12])
    last_year = 2022
    ev = load_events(root, years=range(2010, last_year + 1))
    ev = ev[ev["date"] >= pd.Timestamp(START)].copy()
    ev["date"] = ev["date"].dt.strftime("%Y-%m-%d")
    ev = ev[["date", "name", "kind", "district"]].sort_values(["date", "name"])
    print("events.csv.gz", len(ev), write_csv_gz(ev, out / "events.csv.gz")[:12])
    w = load_weather(root)
    w = w[w["date"] >= pd.Timestamp(START)].copy()
    w["date"] = w["date"].dt.strftime("%Y-%m-%d")
    w = w[["date", "tmax_c", "tmin_c", "precip_mm", "snow_mm"]].sort_values("date")
    print("weather.csv.gz", len(w), write_csv_gz(w, out / "weather.csv.gz")[:12])


def build_samples(shared: Path, out: Path) -> None:
    images = shared / "real-images"
    with open(images / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if out.exists():
        shutil.rmtree(out)
    picked = []
    for source, classes in SAMPLE_SOURCES.items():
        for risk in classes:
            cand = [r for r in rows if r["source"] == source and r["risk"] == risk]
            seen_groups: set[str] = set()
            for r in sorted(cand, key=lambda r: hashlib.sha256(r["path"].encode()).hexdigest()):
                if r["group_id"] in seen_groups:  # one frame per video / photo: variety over near-twins
                    continue
                seen_groups.add(r["group_id"])
                picked.append(r)
                if len(seen_groups) == PER_CLASS:
                    break
    (out / "images").mkdir(parents=True)
    manifest = []
    for r in picked:
        src = images / r["path"]
        name = f"{r['source']}_{r['risk']}_{Path(r['path']).name}"
        dst = out / "images" / r["risk"] / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        manifest.append({"file": dst.relative_to(out).as_posix(), "risk": r["risk"], "source": r["source"],
                         "original_label": r["original_label"], "source_file": r["source_file"],
                         "group_id": r["group_id"]})
    (out / "videos").mkdir()
    shutil.copyfile(images / "videos" / SAMPLE_CLIP, out / "videos" / SAMPLE_CLIP)
    manifest.append({"file": f"videos/{SAMPLE_CLIP}", "risk": "high", "source": "surv-fight",
                     "original_label": "fight", "source_file": "fight/fi040.mp4", "group_id": "surv:yt:lmfaDmCCRoY"})
    with open(out / "samples.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(manifest[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(manifest)
    print(f"samples: {len(picked)} images + 1 clip, {sum(p.stat().st_size for p in out.rglob('*') if p.is_file()):,} B")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--only", choices=["chicago", "samples"])
    a = p.parse_args()
    if a.only in (None, "chicago"):
        build_chicago(a.shared, ROOT / "data" / "chicago")
    if a.only in (None, "samples"):
        build_samples(a.shared, ROOT / "data" / "samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
