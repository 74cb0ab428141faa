"""The TF Serving layout of a model artifact: `<root>/<version>/` holds the SavedModel."""

from pathlib import Path


def version_dir(model_root: str | Path) -> Path:
    """Return the SavedModel directory under a model root: its largest integer subdirectory.

    Raises:
        FileNotFoundError: the root holds no integer version directory.

    """
    root = Path(model_root)
    versions = [int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit()]
    if not versions:
        raise FileNotFoundError(f"{root}: no <version>/ SavedModel directory in the model")
    return root / str(max(versions))
