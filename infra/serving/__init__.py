"""The pure core of serving: the stack's view of ml outputs as Kubernetes objects."""
