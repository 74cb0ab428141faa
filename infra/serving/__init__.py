"""The pure core of serving: the stack's view of ml outputs as Kubernetes objects.

No module here imports Pulumi (a test checks it): the rollout check's dynamic provider
is a shell module, `infra/components/rollout_provider.py`.
"""
