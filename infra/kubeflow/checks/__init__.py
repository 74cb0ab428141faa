"""Checks on the final objects: schema validation and policy."""
