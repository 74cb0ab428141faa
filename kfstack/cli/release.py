"""`kfstack release fetch | publish`: bring a cluster run's record home, publish a local model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kfstack.cli.frame import Subparsers, add_command, command_group, options
from kfstack.cli.output import console
from kfstack.cli.pipeline_run import add_connection_args, connection, guard


def register(subparsers: Subparsers) -> None:
    """Add the `release` command group: `fetch` and `publish`."""
    from ml.model_release import DEFAULT_BUCKET

    commands = command_group(subparsers, "release", "fetch or publish a model release record")
    fetch = add_command(
        commands,
        "fetch",
        "write the release record of a promoted cluster run",
        description="Check the run succeeded and promoted its candidate (KFP API), read its "
        "release artifact from the object store (S3 API) and write it; nothing is written "
        "on error.",
    )
    add_connection_args(fetch)
    fetch.add_argument("--run", required=True, metavar="RUN_ID", help="the run's id")
    fetch.add_argument("--out", type=Path, required=True, help="release record to write")
    fetch.add_argument(
        "--pipeline-root",
        metavar="URI",
        help="the run's pipeline root (default: the profile's kfp-launcher, from --profile)",
    )
    add_store_args(fetch)
    fetch.set_defaults(handler=guard(_fetch))

    publish = add_command(
        commands,
        "publish",
        "upload a locally trained model and point its release record at it",
        description="Upload <model>/<serving version>/ to s3://BUCKET/PREFIX/<name>/<version>/ "
        "(PREFIX: the profile's private/<ns>/models) and rewrite the record's storage_uri to "
        "that s3:// URI (after every upload).",
    )
    publish.add_argument(
        "--run-dir", type=Path, metavar="OUT", help="a local run's --out (model/, release.json)"
    )
    publish.add_argument("--model", type=Path, help="model export root (default: OUT/model)")
    publish.add_argument("--release", type=Path, help="release record (default: OUT/release.json)")
    publish.add_argument("--out", type=Path, help="record to write (default: over --release)")
    publish.add_argument("--bucket", default=DEFAULT_BUCKET, help=f"default: {DEFAULT_BUCKET}")
    publish.add_argument(
        "--prefix", help="key prefix (default: private/<ns>/models of the --profile)"
    )
    add_store_args(publish)
    publish.set_defaults(handler=guard(_publish))


def add_store_args(parser: argparse.ArgumentParser) -> None:
    """--profile, --s3-endpoint, keys, --stack-outputs and --region: how to reach the store."""
    from ml.model_release import DEFAULT_ENDPOINT, PROFILE_COMMAND

    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help=f"the profile's keys and pipeline root: `{PROFILE_COMMAND} > FILE`",
    )
    parser.add_argument(
        "--s3-endpoint",
        metavar="URL",
        help=f"the object store's S3 API (default: {DEFAULT_ENDPOINT}, a port-forward)",
    )
    parser.add_argument("--access-key", help="object store access key")
    parser.add_argument("--secret-key", help="object store secret key")
    parser.add_argument(
        "--stack-outputs",
        type=Path,
        metavar="FILE",
        help="the platform's admin keys from `pulumi stack output --json --show-secrets > "
        "FILE` (prefer --profile: a profile's own keys)",
    )
    parser.add_argument("--region", default="us-east-1", help="S3 region (default: us-east-1)")


def profile_of(args: argparse.Namespace) -> Any:
    """The `--profile` file read (None without it), checked against `--namespace`."""
    from ml.model_release import read_profile

    if args.profile is None:
        return None
    profile = read_profile(args.profile, endpoint=args.s3_endpoint, region=args.region)
    namespace = getattr(args, "namespace", None)
    if namespace and profile.namespace and namespace != profile.namespace:
        raise ValueError(
            f"--profile {args.profile} is namespace {profile.namespace}'s, not --namespace "
            f"{namespace}'s: its keys and root would not be the run's"
        )
    return profile


def store_of(args: argparse.Namespace, profile: Any) -> Any:
    """The object store: the profile's keys unless keys or stack outputs are given."""
    from ml.model_release import object_store

    keys = options(args, "access_key", "secret_key", "stack_outputs", "region")
    if profile is not None and not (args.access_key or args.stack_outputs):
        return profile.store
    return object_store(endpoint=args.s3_endpoint, **keys)


def _fetch(args: argparse.Namespace) -> int:
    from ml.model_release import PROFILE_COMMAND, fetch_release

    profile = profile_of(args)
    root = args.pipeline_root or (profile.pipeline_root if profile is not None else None)
    if root is None:
        raise ValueError(
            f"no pipeline root: give --profile FILE (`{PROFILE_COMMAND} > FILE`: the profile's "
            "kfp-launcher root and keys) or --pipeline-root URI"
        )
    fetched = fetch_release(
        connection(args), args.run, args.out, store=store_of(args, profile), pipeline_root=root
    )
    release = fetched.release
    console().print(f"wrote {fetched.path}: {release.name} version {release.version}")
    console().print(f"  from {fetched.source}")
    console().print(f"  model at {release.storage_uri}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from ml.model_release import PROFILE_COMMAND, models_prefix, publish_release

    if args.run_dir is None and (args.model is None or args.release is None):
        raise ValueError("give --run-dir OUT, or both --model and --release")
    model = args.model or args.run_dir / "model"
    record = args.release or args.run_dir / "release.json"
    if args.release is None and args.run_dir.is_dir() and not record.is_file():
        raise ValueError(
            f"{args.run_dir} has no release.json: the run did not promote its candidate, "
            "so there is no release to publish"
        )
    profile = profile_of(args)
    prefix = args.prefix or (models_prefix(profile.namespace) if profile is not None else None)
    if prefix is None:
        raise ValueError(
            f"no prefix: give --profile FILE (`{PROFILE_COMMAND} > FILE`: the profile's keys, "
            "its models go under private/<ns>/models) or --prefix"
        )
    published = publish_release(
        model,
        record,
        store=store_of(args, profile),
        bucket=args.bucket,
        prefix=prefix,
        out=args.out,
    )
    console().print(f"uploaded {published.files} files ({published.bytes} bytes)")
    console().print(f"wrote {published.path}: storage_uri {published.release.storage_uri}")
    return 0
