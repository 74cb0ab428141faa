"""`kfstack serve check`: the served model measured through its endpoint.

Held-out rows go through the InferenceService's predict API (KServe v1 or v2), the same
metrics the pipeline computed are computed on the answers, and each is compared with the
release record's offline value: `serving-check.json` and a before/after chart.

Modules: `protocol`, `batching`, `holdout`, `score`, `drift`, `targets` (the pure core),
`client` (HTTP), `run` (one check), `report`, `chart`; the command is `kfstack.cli.serve`.
Nothing is imported here, so `kfstack --help` stays fast; use `ml.servecheck.run.run_check`.
"""
