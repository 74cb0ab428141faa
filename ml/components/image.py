"""The container image the components run in on a cluster.

The image is the kfstack package with the `ml` extra installed (TensorFlow, kfp, matplotlib),
so components install nothing at start-up (`packages_to_install` is empty and kfp itself is
in the image). `kfp.local` with `SubprocessRunner(use_venv=False)` ignores the image and runs
each task in the current environment, where `ml` is installed too.
"""

from __future__ import annotations

from typing import Final

KFSTACK_IMAGE: Final = "ghcr.io/kfstack/ml:0.1.0"
"""Base image of every kfstack component; `kfstack pipeline compile --image` replaces it."""
