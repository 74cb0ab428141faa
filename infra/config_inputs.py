"""Checks of stack inputs that reach a command line: git URLs and refs (pure).

`git fetch <url>` treats a URL that starts with `-` as an option (`--upload-pack=CMD`
runs CMD), and transports like `ext::` or `file://` run commands or read local files.
Only `https://` and ssh (`ssh://...` or `user@host:path`) URLs are accepted, and git is
always given them after `--`.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

__all__ = ["check_git_ref", "check_git_url"]

_SCP_LIKE = re.compile(r"^[A-Za-z0-9][\w.-]*@[A-Za-z0-9][\w.-]*:(?!/)[\w.~/-]+$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$")
_PATH = re.compile(r"^/[\w.~/%-]*$")
_REF = re.compile(r"^[A-Za-z0-9][\w./-]{0,254}$")


def check_git_url(url: str) -> str:
    """Return `url` if it is an `https://` or ssh git URL, else raise.

    Raises:
        ValueError: what is wrong and what is allowed.

    """
    allowed = "allowed: https://host/path or ssh (ssh://git@host/path, git@host:org/repo.git)"
    if _SCP_LIKE.match(url):
        return url
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "ssh"):
        raise ValueError(f"git URL {url!r} is not https:// or ssh; {allowed}")
    host = parsed.netloc.rpartition("@")[2]
    user = parsed.netloc.rpartition("@")[0]
    if parsed.scheme == "https" and user:
        raise ValueError("a https git URL must not carry credentials; use a credential helper")
    if not _HOST.match(host) or not _PATH.match(parsed.path or "/"):
        raise ValueError(f"git URL {url!r} has an invalid host or path; {allowed}")
    if parsed.query or parsed.fragment or parsed.params or ".." in parsed.path.split("/"):
        raise ValueError(f"git URL {url!r} must not have a query, fragment or '..'; {allowed}")
    return url


def check_git_ref(ref: str) -> str:
    """Return `ref` if it is a plain tag, branch or commit name (never an option).

    Raises:
        ValueError: the ref starts with '-', or holds characters git refs never need.

    """
    if not _REF.match(ref) or ".." in ref or ref.endswith((".lock", "/", ".")):
        raise ValueError(
            f"git ref {ref!r} is not a tag or commit name (letters, digits, '.', '_', '-', '/'; "
            "starting with a letter or digit)"
        )
    return ref
