"""Issue 13 item 6: the forecast job reads and validates every input before its first write.

A corrupt optional input (the incidents side file the report maps) must fail the run before anything is
written: the previous run of the same date (forecasts partition, serving copy, manifest, report) is untouched.
"""

from __future__ import annotations

import gzip

import pytest
from crimecast import layout as L
from lambda_helpers import import_handler, load_event

RUN = "2026-11-27"  # the date of tests/events/scheduled_event.json


def _snapshot(aws) -> dict[str, bytes]:
    """Every object of the results and reports stores, key → bytes."""
    out = {}
    for name, store in (("results", aws.stores.results), ("reports", aws.stores.reports)):
        for info in store.list(""):
            out[f"{name}:{info.key}"] = store.get_bytes(info.key)
    return out


@pytest.mark.parametrize("incidents_key,body,match", [
    # not gzip at all, behind a .csv.gz name
    ("data/incidents/incidents.csv.gz", b"\x00\x01 this is not gzip", r"incidents\.csv\.gz: not a readable table"),
    # a readable CSV whose lat column holds text (the map would break after the forecasts were written)
    ("data/incidents/incidents.csv.gz",
     gzip.compress(b"date,district,category,lat,lon\n2025-12-30,D01,theft,41.8,-87.6\n2025-12-31,D02,theft,north,-87.7\n"),
     r"incidents\.csv\.gz, column 'lat', line\(s\) 3: not a number"),
])
def test_corrupt_optional_input_leaves_the_previous_run_untouched(aws, deployed_forecaster, data_uploaded,
                                                                   lambda_context, incidents_key, body, match):
    # Given a complete run for the date
    mod = import_handler("forecast_job")
    mod.handler(load_event("scheduled_event"), lambda_context)
    prefixes = L.Prefixes()
    assert aws.stores.results.exists(L.manifest_key(prefixes, RUN))
    assert aws.stores.results.exists(L.forecast_key(prefixes, RUN))
    before = _snapshot(aws)

    # When a corrupt incidents file arrives in the data bucket and the same date runs again
    aws.stores.data.put_bytes(incidents_key, body)
    with pytest.raises(ValueError, match=match) as err:
        mod.handler(load_event("scheduled_event"), lambda_context)

    # Then the error names the S3 object, and not one object of the previous run changed or appeared
    assert "s3://" in str(err.value)
    after = _snapshot(aws)
    assert sorted(after) == sorted(before)
    changed = [k for k in before if after[k] != before[k]]
    assert changed == []
