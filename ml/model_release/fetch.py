"""`kfstack release fetch`: the release record of a promoted cluster run, as a local file.

The KFP API says how the run ended and whether its gate released the candidate (the
``write-release`` task ran); the record itself is an artifact in the pipeline root of the
platform's object store, read through the S3 API: KFP's driver puts a run's outputs under
``<pipeline root>/<pipeline name>/<run id>/`` (`GetPipeline` in its metadata client), then
``<task>/.../<artifact name>``, so the record is the one object there named ``release``.
The file is written only when the record is found and valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ml.model_release.record import ModelRelease, ReleaseError, write_release
from ml.model_release.store import ObjectStore, StoreError, describe, s3_client, split_uri
from ml.pipelines.remote import Connection, api_client, calling, get_run, task_states

__all__ = [
    "FetchError",
    "Fetched",
    "fetch_release",
    "release_task_state",
]

#: The release task, by its name and by the display name the pipeline gives it.
RELEASE_TASKS: Final = ("write-release", "release record → registration → serving")
RELEASE_ARTIFACT: Final = "release"


@dataclass(frozen=True)
class Fetched:
    """A fetched record and where it came from."""

    release: ModelRelease
    path: Path
    source: str


class FetchError(RuntimeError):
    """The run has no release record to fetch; the message says why."""


def release_task_state(run: Any) -> str | None:
    """The state of the run's release task, or None when it never appeared (gate closed)."""
    states = task_states(run)
    return next((states[name] for name in RELEASE_TASKS if name in states), None)


_NOT_PROMOTED = (
    "run {run} did not promote its candidate ({why}): the gate kept the serving model; "
    "see the run's comparison chart for the verdict"
)


def _check_promoted(run: Any, run_id: str) -> str | None:
    """Refuse a run that did not succeed or whose release task did not; return that state.

    None means the task details do not name the release task (the gate closed, or a KFP
    version that names tasks otherwise): the object store then decides.
    """
    state = str(run.state)
    if state != "SUCCEEDED":
        reason = f": {run.error.message}" if run.error is not None and run.error.message else ""
        raise FetchError(f"run {run_id} is {state}{reason}; only a succeeded run has a release")
    task = release_task_state(run)
    if task is not None and task != "SUCCEEDED":
        raise FetchError(_NOT_PROMOTED.format(run=run_id, why=f"release task {task}"))
    return task


def _find_record(s3: Any, bucket: str, prefix: str, *, run_id: str, task: str | None) -> str:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    found = [k for k in keys if k.rsplit("/", 1)[-1] == RELEASE_ARTIFACT]
    if not found and task is None:
        why = f"no release task, no release artifact under s3://{bucket}/{prefix}"
        raise FetchError(_NOT_PROMOTED.format(run=run_id, why=why))
    if len(found) != 1:
        what = "no release artifact" if not found else f"{len(found)} release artifacts"
        raise FetchError(
            f"{what} under s3://{bucket}/{prefix} ({len(keys)} objects): is --pipeline-root "
            "the pipeline root of the run's profile?"
        )
    return found[0]


def fetch_release(
    conn: Connection,
    run_id: str,
    out: Path,
    *,
    store: ObjectStore,
    pipeline_root: str,
    pipeline_name: str = "kfstack-training",
) -> Fetched:
    """Write the release record of the promoted run `run_id` to `out`.

    `pipeline_root` is the root of the run's profile (`ml.model_release.profile`): its
    `kfp-launcher` ConfigMap, never a fixed default.

    Raises:
        RemoteError: the KFP API is unreachable or has no such run.
        FetchError: the run did not succeed, did not promote, or its record is not found.
        StoreError: the object store is unreachable or refuses the keys.
        ReleaseError: the record found is not a valid release of that run.

    """
    if not run_id.strip():
        raise FetchError("--run is empty: give the id of a run (kfstack pipeline run prints it)")
    client = api_client(conn)
    with calling(conn.host, f"get run {run_id}"):
        run = get_run(client, run_id)
    task = _check_promoted(run, run_id)
    bucket, root = split_uri(pipeline_root)
    prefix = f"{root}/{pipeline_name}/{run_id}/".lstrip("/")
    s3 = s3_client(store)
    try:
        key = _find_record(s3, bucket, prefix, run_id=run_id, task=task)
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except FetchError:
        raise
    except Exception as exc:  # botocore raises many kinds; all mean the store failed us
        raise StoreError(f"object store {store.endpoint}: {describe(exc)}") from None
    source = f"s3://{bucket}/{key}"
    try:
        release = ModelRelease.model_validate_json(body)
    except ValueError as exc:
        raise ReleaseError(f"{source}: invalid release record: {exc}") from None
    if release.pipeline_run is not None and release.pipeline_run.id != run_id:
        raise ReleaseError(
            f"{source}: the record names run {release.pipeline_run.id}, not {run_id}"
        )
    return Fetched(release, write_release(release, out), source)
