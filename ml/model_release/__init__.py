"""Release records between a cluster, an object store and the stack.

``ml.model_release.store``     the stack's object store (S3 API): endpoint and keys, a boto3 client
``ml.model_release.fetch``     `kfstack release fetch`: the record of a promoted cluster run
``ml.model_release.publish``   `kfstack release publish`: upload a local model, rewrite its record
``kfstack.cli.release``       the `kfstack release` commands
"""
