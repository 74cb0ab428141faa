"""Release records between a cluster, an object store and the stack.

``ml.releases.store``     the stack's object store (S3 API): endpoint and keys, a boto3 client
``ml.releases.fetch``     `kfstack release fetch`: the record of a promoted cluster run
``ml.releases.publish``   `kfstack release publish`: upload a local model, rewrite its record
``ml.releases.cli``       the `kfstack release` commands
"""
