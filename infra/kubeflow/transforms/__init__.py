"""Transforms of the rendered objects: each one `objects, settings -> objects`."""
