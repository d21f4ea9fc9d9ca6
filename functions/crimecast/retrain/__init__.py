"""Retraining with a promotion gate (model-agnostic core; the TensorFlow trainer plugs in from training/).

`gate.run_retrain`: train a challenger on the maintained counts up to a cut-off, backtest challenger and
champion on the most recent origins after it (neither trained on them), promote the challenger to
models/forecaster/v<N+1>/ only when it is not worse, and log the decision with both scores.
"""
