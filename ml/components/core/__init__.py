"""The pure core of each component: what its body calls, importable without kfp's decorators.

At run time a component body runs under kfp's executor, where `kfp.dsl.component` does not
exist, so the body can import these modules but not the component modules themselves.
"""
