"""A fast reader for block-style YAML, the form `kubectl kustomize` writes.

libyaml builds a node (and two position marks) for every scalar before PyYAML turns it into
a Python value; on a full Kubeflow render that is the largest CPU cost of a plan after
kustomize itself. kustomize's writer (kyaml, a go-yaml v3 emitter) uses a small part of
YAML: block mappings and sequences, plain and quoted scalars (wrapped over lines), literal
block scalars, `{}` and `[]`. This module reads that part line by line into the same Python
values as PyYAML's safe loader (its YAML 1.1 scalar resolution: `yes` is True, `0o7` a
string, `2001-12-14` a date) and declines anything else: flow collections, anchors and
aliases, tags, directives, folded scalars, complex keys, tabs in the structure, any error.
`infra.safe_yaml.load_all` reads a declined document with libyaml as before, so this path
can only be faster, never different; tests compare the two on every YAML file of the shared
releases and on their renders.
"""

from infra.block_yaml.reader import read_document
from infra.block_yaml.scalars import Declined
from infra.block_yaml.stream import documents

__all__ = ["Declined", "documents", "read_document"]
