"""Forecast monitoring: earlier runs' forecasts joined with the actual counts as now known.

`table.build_table` (one row per run date × date × series × horizon: y_pred, y_true, interval hits and the
two baselines' predictions from the same origin), `summary.summarize` (MAE by horizon, MAE relative to the
28-day mean and to seasonal-naive on the same rows, 80/95 % coverage over the last 28 and 90 days, overall
and per district), `store.compute_monitoring` / `write_monitoring` (what the forecast job calls), `metrics`
(CloudWatch metric names, shared with infra/: this package imports nothing heavy at import time).
"""
