"""The incident feed: exports dropped under feeds/incoming/ → per-incident table → daily counts.

`config` (config/ingest.json: the column mapping, validated), `parse` (one export → clean incident rows +
rejected rows with a reason each), `merge` (last version per incident wins, month partitions: only the
months an export touches are rewritten), `state` (history start, last complete day). The job that ties them
to the stores is `crimecast.jobs.feed_ingest`; the Lambda entry point `crimecast.handlers.feed_ingest`.
"""
