"""Group cross-validation of the classifier: folds respect groups, every image gets an out-of-fold prediction."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from testlib import run_cli

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
clf = pytest.importorskip("crimecast_training.classifier")


def _frame() -> pd.DataFrame:
    rows = []
    for src, n_groups in (("a", 7), ("b", 4)):
        for g in range(n_groups):
            for y in ((0, 2) if src == "a" else (1, 2)):
                for j in range(1 + g % 3):  # groups of different sizes
                    rows.append({"group_id": f"{src}{g}-{y}", "source": src, "y": y, "path": f"{src}{g}{y}{j}"})
    return pd.DataFrame(rows)


def test_group_folds_keep_groups_together_and_spread_every_stratum():
    df = _frame()
    folds = clf.group_folds(df, 4, seed=0)
    assert folds.shape == (len(df),) and set(folds) == {0, 1, 2, 3}
    assert (df.assign(f=folds).groupby("group_id")["f"].nunique() == 1).all()  # a group never straddles folds
    for _, sub in df.assign(f=folds).groupby(["source", "y"]):
        per_fold = sub.groupby("f")["group_id"].nunique().reindex(range(4), fill_value=0)
        assert per_fold.max() - per_fold.min() <= 1  # the stratum's groups are dealt evenly
    assert (clf.group_folds(df, 4, seed=0) == folds).all()
    assert not (clf.group_folds(df, 4, seed=1) == folds).all()


def test_cross_validated_training_predicts_every_image_out_of_fold(synth_dir: Path, tmp_path: Path):
    out = tmp_path / "cv"
    proc = run_cli("train-classifier", "--images", str(synth_dir / "images"), "--out", str(out), "--quick",
                   "--head", "finetune", "--folds", "3", "--epochs", "4", "--cache-dir", str(tmp_path / "cache"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((out / "metadata.json").read_text())
    cv = meta["metrics"]["cv"]
    assert cv["folds"] == 3 and len(cv["per_fold_macro_f1"]) == 3 and len(cv["mean_fold_macro_f1_by_epoch"]) == 4
    assert meta["training"]["folds"] == 3 and meta["training"]["train"] == 120
    assert meta["training"]["validation"] == 120  # every image predicted by a model that never saw its group
    assert meta["metrics"]["validation_keras"]["n"] == 120
    assert "out-of-fold" in meta["calibration"]["method"] and "cross-validation" in meta["metrics"]["split"]
    assert "in-sample" in meta["variants"]["int8"]["measured_on"]
    assert meta["metrics"]["validation_per_source"]["synthetic"]["n"] == 120
    assert len(meta["training"]["history"]) == 4  # the final model, trained on all images

    from crimecast.vision import CrimeImageClassifier

    c = CrimeImageClassifier().load_model(out)
    imgs = sorted((synth_dir / "images" / "high_risk").glob("*.jpg"))[:3]
    for img in imgs:
        level, conf = c.predict(str(img))
        assert level in ("High", "Medium", "Low") and 0 <= conf <= 1
    assert np.isfinite(meta["calibration"]["temperature"])


@pytest.mark.parametrize("flags, words", [(["--folds", "1"], "--folds 1"), (["--folds", "-2"], "--folds -2"),
                                          (["--folds", "999"], "number of groups"),
                                          (["--arch", "seed", "--folds", "3"], "--folds needs"),
                                          (["--folds", "0"], "--folds must be >= 2"),
                                          (["--repeats", "0"], "--repeats 0"),
                                          (["--backbones", "lite0+resnet50"], "unknown network 'resnet50'"),
                                          (["--backbones", "lite2@big"], "size 'big' of lite2"),
                                          (["--arch", "seed", "--head", "frozen"], "--head frozen needs"),
                                          (["--weighting", "videos"], "--weighting: invalid choice"),
                                          (["--served-head", ""], "--served-head: invalid choice")])
def test_bad_fold_settings_are_refused_before_training(synth_dir: Path, tmp_path: Path, flags, words):
    proc = run_cli("train-classifier", "--images", str(synth_dir / "images"), "--out", str(tmp_path / "m"), "--quick",
                   *flags, "--cache-dir", str(tmp_path / "cache"))
    assert proc.returncode == 2 and words in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("bad", [["--train-share", "0"], ["--train-share", "1.5"], ["--frac", "1"],
                                 ["--splits", "0"]])
def test_bench_holdout_refuses_bad_shares_and_splits_before_any_work(bad):
    import subprocess
    import sys

    from testlib import ROOT

    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_vision_cv.py"), "holdout", *bad],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, (bad, r.stderr[-300:])
    assert "--train-share in (0, 1]" in r.stderr and bad[1] in r.stderr


def test_bench_holdout_refuses_an_unknown_variant_before_any_work():
    import subprocess
    import sys

    from testlib import ROOT

    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_vision_cv.py"), "holdout", "--variants",
                        "float32", "int9"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--variants" in r.stderr and "'int9'" in r.stderr, r.stderr[-300:]
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_vision_cv.py"), "holdout", "--variants"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--variants" in r.stderr and "expected at least one argument" in r.stderr


def _bench_module():
    import importlib.util

    from testlib import ROOT

    spec = importlib.util.spec_from_file_location("bench_vision_cv_t", ROOT / "scripts" / "bench_vision_cv.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_table_rewrite_keeps_earlier_measurements_once_with_the_mark_on_the_shipped_rule(tmp_path: Path):
    """A table rewritten on a fresh machine (no raw results of its own) keeps every earlier row, the High-bias curve
    and the learning-curve lines; a row whose shipped-rule mark has moved, or that the earlier section held twice, is
    kept once."""
    b = _bench_module()
    s = f"{b.SHIPPED_NEED:.2f}"
    other = "0.90" if s != "0.90" else "0.92"
    cv_head = ["| head | a | b | c | d | e | f | g | h | i | j | k | l | m |", "|" + "---|" * 14]
    cv_row = ("| frozen + LR | 384 px | avgmax | image | 0.01 | 3 | 0.745 | 0.62 | 0.752 ± 0.013 | x | x | x | 0.355 "
              "| 1 |")
    hold = [f"| 384 px (High rule fitted for recall {r}){' **(shipped rule)**' if r == other else ''} | image | 10 | "
            f"0.75 | 0.9 | 0.5 | 40% |" for r in (other, s)]
    section = ["Commands: old", "", *cv_head, cv_row, cv_row, "",
               "High recall / precision against the High bias (best frozen row):", "",
               "| High bias | High recall | High precision | macro-F1 | accuracy |", "|---|---|---|---|---|",
               "| +0.87 | 0.900 | 0.618 | 0.790 | 0.757 |", "",
               "What a check on unseen groups sees (old):", "", "| input | v | n | f | r | p | m |",
               "|---|---|---|---|---|---|---|", *hold, hold[1], "",
               f"Learning curve, served view image, the High rule fitted for {other} (shipped) (training images, …): "
               "628 → 0.7 / 0.9."]
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n## {b.TITLE}\n\n" + "\n".join(section) + "\n\n## Next\n")

    out = b._keep_earlier_rows(["Commands: new", "", *cv_head], doc=doc)  # a fresh machine: no rows of its own
    assert out[0] == "Commands: new" and out.count(cv_row) == 1 and "| +0.87 | 0.900 | 0.618 | 0.790 | 0.757 |" in out
    assert any(ln.startswith("What a check on unseen groups sees") for ln in out)
    rows = [ln for ln in out if ln.startswith("| 384 px")]
    assert len(rows) == 2 and sum("**(shipped rule)**" in ln for ln in rows) == 1
    assert f"fitted for recall {s}) **(shipped rule)**" in "\n".join(rows)
    curve = [ln for ln in out if ln.startswith("Learning curve")]
    assert len(curve) == 1 and "(shipped)" not in curve[0]

    # this run re-measured the shipped rule's hold-out row: it replaces the earlier one instead of joining it
    new_row = f"| 384 px (High rule fitted for recall {s}) **(shipped rule)** | image | 10 | 0.77 | 0.93 | 0.6 | 50% |"
    out = b._keep_earlier_rows(["Commands: new", "", *cv_head, "", "What a check (new):", "",
                                "| input | v | n | f | r | p | m |", "|---|---|---|---|---|---|---|", new_row], doc=doc)
    rows = [ln for ln in out if ln.startswith("| 384 px")]
    assert len(rows) == 2 and new_row in rows and not any("| 0.75 |" in ln and s in ln for ln in rows)


def test_speed_rows_pair_each_latency_with_the_cv_row_of_the_same_graph():
    """The accuracy-against-speed table puts each int8 latency next to the CV row with the same input, networks and
    served view (group-balanced, the rule nearest the shipped one), fastest first, and says so when none exists."""
    b = _bench_module()

    def cv(mirror, weighting, need, f1):
        return {"size": 384, "pool": "avgmax", "mirror": mirror, "backbones": "lite0+lite2@320", "weighting": weighting,
                "need": need, "cross_fitted": {"macro_f1": f1, "macro_f1_sd": 0.01, "high_recall": 0.94,
                                               "high_precision": 0.6}}

    lat = [{"size": 384, "pool": "avgmax", "mirror": m, "backbones": "lite0+lite2@320", "int8_ms_1_thread": ms,
            "mib": 9.0} for m, ms in ((True, 200.0), (False, 80.0))]
    lat.append({"size": 224, "pool": "avg", "mirror": False, "backbones": "lite0", "int8_ms_1_thread": 5.0, "mib": 3.0})
    rows = [ln for ln in b._speed_rows(lat, [cv(True, "class", b.SHIPPED_NEED, 0.70), cv(True, "group", 0.90, 0.71),
                                             cv(True, "group", b.SHIPPED_NEED, 0.72), cv(False, "group", 0.90, 0.73)])
            if ln.startswith("| Lite")]
    assert [float(b._cells(r)[3]) for r in rows] == [5.0, 80.0, 200.0]
    assert b._cells(rows[0])[5:] == ["—", "—", "—"]  # no CV row of that graph
    assert b._cells(rows[1])[5].startswith("0.730") and b._cells(rows[2])[5].startswith("0.720")
    assert all(len(b._cells(r)) == 8 for r in rows) and b._speed_rows([], []) == []


def test_learning_curve_reads_the_line_and_sets_a_nearer_run_beside_it(monkeypatch):
    """Three shares of the 30 % hold-out make the line; an int8 row of the same rule is not a fourth point; a run that
    held out 10 % (trained nearer to all images) is reported next to what the line reads at its training size."""
    b = _bench_module()
    from crimecast_training import data

    monkeypatch.setattr(data, "load_labels", lambda labels: pd.DataFrame({"y": np.zeros(4000, int)}))

    def row(share, f1, rec, n, frac=0.3, variant="float32"):
        return {"need": b.SHIPPED_NEED, "mirror": False, "served_head": "folds", "weighting": "group", "frac": frac,
                "train_share": share, "variant": variant, "macro_f1_mean": f1, "macro_f1_sd": 0.05,
                "high_recall_mean": rec, "high_recall_sd": 0.06, "share_meeting_must_show": 0.5,
                "splits": [{"split_seed": 0, "n_train": n}]}

    # macro-F1 rises 0.05 and recall falls 0.02 per doubling, exactly: the line reads 0.80 / 0.90 at 4,000 images
    pts = [row(s, 0.80 - 0.05 * k, 0.90 + 0.02 * k, 4000 / 2 ** k) for s, k in ((0.25, 3), (0.5, 2), (1.0, 1))]
    out = b._learning_curve(pts + [row(1.0, 0.1, 0.1, 2000, variant="int8")], "labels.csv")
    assert len(out) == 2 and "2000 → 0.750 / 0.920" in out[1] and "→ 0.100" not in out[1]
    assert "+0.050 macro-F1 and -0.020 High recall per doubling" in out[1] and "0.800 and High recall 0.900" in out[1]
    assert b.NEARER not in out[1]
    near = row(1.0, 0.77, 0.93, 2828, frac=0.1)
    for curve in (out, ["", out[1] + b.NEARER + " (an earlier run's sentence)."]):  # made now, or kept from the doc
        line = b._with_nearer(curve, pts + [near])[1]
        assert line.startswith(out[1]) and line.count(b.NEARER) == 1 and "earlier run" not in line
        assert "10% of the groups held out, 2828 training images, 1 splits): macro-F1 0.770 ± 0.050" in line
        assert "where the line reads 0.775 and 0.910" in line  # 2828 = 4000 / sqrt(2): half a doubling below
    assert b._with_nearer(out, pts) == out  # no such run: nothing added


def test_odds_table_is_written_and_kept_by_a_run_without_one(tmp_path: Path):
    """`odds` lines: one row per held-out share, the share near 3/7 of the images named as the landing check's size;
    its rows are not taken for hold-out rows, and a later table run without an odds row keeps the earlier table."""
    b = _bench_module()

    def share(sh, n, f1):
        return {"share": sh, "images": n, "macro_f1_mean": f1, "macro_f1_sd": 0.03, "high_recall_mean": 0.94,
                "high_recall_sd": 0.02, "meets_macro_f1": 0.5, "meets_recall": 0.9, "meets_both": 0.45}

    r = {"repeats": 3, "draws": 200, "n_images": 1648, "pooled_macro_f1": 0.7816, "pooled_high_recall": 0.941,
         "shares": [share(0.1, 205, 0.775), share(0.42, 704, 0.781)]}
    lines = b._odds_lines(r)
    rows = [ln for ln in lines if ln.startswith("| ") and not ln.startswith(b.HEADERS)]
    assert len(rows) == 2 and all(len(b._cells(ln)) == 6 for ln in rows)
    assert rows[0].startswith("| 10% (205) | 0.775 ± 0.030") and "70 % of a pool" not in rows[0]
    assert rows[1].startswith("| 42% (704) (our 1,648 as 70 % of a pool") and rows[1].endswith("| 50% | 90% | 45% |")
    assert "macro-F1 0.782 and High recall 0.941" in lines[1] and "paired" not in lines[1]
    r["paired"] = [{"frac": 0.1, "train_share": 1.0, "splits": 20, "cv_macro_f1": 0.764, "holdout_macro_f1": 0.7497,
                    "change": -0.0143, "change_se": 0.0035},
                   {"frac": 0.3, "train_share": 0.5, "splits": 10, "cv_macro_f1": 0.78, "holdout_macro_f1": 0.707,
                    "change": -0.073, "change_se": 0.01}]
    lines = b._odds_lines(r)
    assert "10% held out (20 splits): CV 0.764, hold-out 0.750, change -0.014 ± 0.004; 30% held out, trained on 50% " \
           "of the rest (10 splits)" in lines[1] and lines[1].endswith("shows in both.\n")
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"## {b.TITLE}\n\nCommands: old\n" + "\n".join(lines) + "\n\n## Next\n")
    out = b._keep_earlier_rows(["Commands: new"], doc=doc)
    assert [ln for ln in out if ln.startswith("| ")] == [ln for ln in lines if ln.startswith("| ")]
    assert sum(ln.startswith(b.ODDS_START) for ln in out) == 1
    again = b._keep_earlier_rows(["Commands: new", *lines], doc=doc)  # this run has its own: not doubled
    assert sum(ln.startswith(b.ODDS_START) for ln in again) == 1


@pytest.mark.parametrize("bad", [["--shares", "0"], ["--shares", "1"], ["--draws", "0"], ["--need", "1.2"],
                                 ["--repeats", "0"]])
def test_bench_odds_refuses_bad_input_before_any_work(bad):
    import subprocess
    import sys

    from testlib import ROOT

    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_vision_cv.py"), "odds", *bad],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "odds: --shares and --need must be in (0, 1)" in r.stderr, r.stderr[-300:]
    assert bad[1] in r.stderr


@pytest.mark.parametrize("bad", [["--shares"], ["--shares", "a third"], ["--draws", "1e9x"]])
def test_bench_odds_refuses_empty_and_malformed_values(bad):
    import subprocess
    import sys

    from testlib import ROOT

    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_vision_cv.py"), "odds", *bad],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and bad[0] in r.stderr and "Traceback" not in r.stderr, r.stderr[-300:]


def test_high_bias_curve_stays_with_the_best_row(tmp_path: Path):
    """A run whose only CV row is worse than one measured before keeps the earlier curve (of the best row) instead of
    putting its own in; a run whose row is the best puts its own curve in."""
    b = _bench_module()
    cv_head = ["| head | a | b | c | d | e | f | g | h | i | j | k | l | m |", "|" + "---|" * 14]

    def row(size: int, f1: float) -> str:
        return (f"| frozen + LR | {size} px | avgmax | image | 0.01 | 3 | 0.7 | 0.6 | {f1} ± 0.01 | x | x | x | 0.3 "
                "| 1 |")

    def curve(tag: str) -> list[str]:
        return [f"High recall / precision against the High bias (best frozen row, {tag}):", "",
                "| High bias | High recall | High precision | macro-F1 | accuracy |", "|---|---|---|---|---|",
                f"| +0.8 | 0.900 | 0.6 | 0.7 | 0.7 | {tag} |"]

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# B\n\n## {b.TITLE}\n\n" + "\n".join(["Commands: old", "", *cv_head, row(384, 0.784), "",
                                                             *curve("old")]) + "\n")
    worse = b._keep_earlier_rows(["Commands: new", "", *cv_head, row(320, 0.749), "", *curve("new")], doc=doc)
    text = "\n".join(worse)
    assert "(best frozen row, old)" in text and "(best frozen row, new)" not in text
    assert worse.count(row(384, 0.784)) == 1 and worse.count(row(320, 0.749)) == 1
    better = b._keep_earlier_rows(["Commands: new", "", *cv_head, row(448, 0.801), "", *curve("new")], doc=doc)
    text = "\n".join(better)
    assert "(best frozen row, new)" in text and "(best frozen row, old)" not in text


def test_speed_row_retimed_on_a_fresh_machine_keeps_the_cv_cells_measured_before(tmp_path: Path):
    """A latency re-timed on a machine without the CV row of that graph takes the earlier CV cells of the same graph
    (the accuracy does not depend on the machine); a new graph with no CV row anywhere stays '—'."""
    b = _bench_module()
    head = "| networks | input | served view | int8 ms, 1 thread | MiB | macro-F1 at the rule (CV) | rule | High |"
    sep = "|" + "---|" * 8
    was = "| Lite0 | 384 px avgmax | image | 53.8 | 3.8 | 0.759 ± 0.012 | 0.94 | 0.947 / 0.574 |"
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# B\n\n## {b.TITLE}\n\nCommands: old\n\n{b.SPEED_START} (old):\n\n{head}\n{sep}\n{was}\n")
    out = b._keep_earlier_rows(["Commands: new", "", f"{b.SPEED_START} (new):", "", head, sep,
                                "| Lite0 | 384 px avgmax | image | 15.9 | 3.8 | — | — | — |",
                                "| Lite9 | 96 px avg | image | 1.0 | 0.1 | — | — | — |"], doc=doc)
    rows = [ln for ln in out if ln.startswith("| Lite")]
    assert rows == ["| Lite0 | 384 px avgmax | image | 15.9 | 3.8 | 0.759 ± 0.012 | 0.94 | 0.947 / 0.574 |",
                    "| Lite9 | 96 px avg | image | 1.0 | 0.1 | — | — | — |"]


@pytest.mark.parametrize(("bad", "words"), [
    (["--repeats", "0"], "--repeats and --calib must be >= 1"),
    (["--calib", "0"], "--repeats and --calib must be >= 1"),
    (["--calib", "-5"], "--repeats and --calib must be >= 1"),
    (["--repeats", "many"], "invalid int value"),
    (["--size", ""], "invalid int value"),
    (["--backbones", ""], "unknown network"),
    (["--backbones", "lite0+lite9"], "unknown network 'lite9'"),
    (["--backbones", "lite0@99999"], "not a whole number in 32..1024"),
])
def test_bench_latency_refuses_bad_input_before_any_work(bad, words):
    import subprocess

    from testlib import ROOT

    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_vision_cv.py"), "latency", *bad],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and words in r.stderr, (bad, r.stderr[-300:])
