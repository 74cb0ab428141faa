"""An EKS cluster (pulumi-eks): VPC, managed node group, EBS CSI driver, gp3 storage.

The cloud SDKs are the optional `eks` extra, imported only when a stack uses EKS.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from infra.cluster.base import CloudCluster, Extra, child_opts, cluster_handle

if TYPE_CHECKING:
    import pulumi

    from infra.cluster.base import ClusterContext, ClusterHandle

DEFAULT_NODE_TYPE = "m6i.2xlarge"
# The EBS CSI driver with the gp3 default class is made below (CloudCluster.CAPABILITIES).

VPC_CIDR = "10.42.0.0/16"
# Two public subnets in two zones: EKS requires subnets in at least two AZs.
SUBNETS = (("a", "10.42.0.0/19"), ("b", "10.42.32.0/19"))
NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
)
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
EBS_CSI_SERVICE_ACCOUNT = "system:serviceaccount:kube-system:ebs-csi-controller-sa"


# The cloud SDK, an optional extra: imported only when a stack uses EKS.
_EXTRA = Extra("eks", ("pulumi-eks>=3,<4", "pulumi-aws>=6,<8"))


class EksCluster(CloudCluster):
    """An AWS EKS cluster with its VPC, made by the stack."""

    EXTRA: ClassVar[Extra | None] = _EXTRA

    kind: Literal["eks"] = "eks"
    node_type: str = Field(default=DEFAULT_NODE_TYPE, min_length=1)

    def provision(self, context: ClusterContext, opts: pulumi.ResourceOptions) -> ClusterHandle:
        """Create the VPC, the EKS cluster, its node group, EBS CSI and a default gp3 class.

        With `kubeflow.protectData` (prod), the gp3 class reclaims with `Retain`: an EBS
        volume outlives its PVC, so a deleted claim never deletes the data.
        """
        return _provision(self, context, opts)


CONFIG = EksCluster


def node_assume_role_policy() -> str:
    """Trust policy of the node role: EC2 instances assume it."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        sort_keys=True,
    )


def irsa_assume_role_policy(provider_arn: str, provider_url: str, subject: str) -> str:
    """Trust policy letting one Kubernetes service account assume a role (IRSA)."""
    issuer = provider_url.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": subject,
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def _network(aws: Any, cluster: EksCluster, name: str, opts: Any) -> tuple[Any, list[Any]]:
    tags = {"Name": name, f"kubernetes.io/cluster/{name}": "shared"}
    vpc = aws.ec2.Vpc(
        "vpc",
        cidr_block=VPC_CIDR,
        enable_dns_hostnames=True,
        enable_dns_support=True,
        tags=tags,
        opts=opts,
    )
    gateway = aws.ec2.InternetGateway("igw", vpc_id=vpc.id, tags=tags, opts=opts)
    routes = aws.ec2.RouteTable(
        "public-routes",
        vpc_id=vpc.id,
        routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
        tags=tags,
        opts=opts,
    )
    subnets = []
    for zone, cidr in SUBNETS:
        subnet = aws.ec2.Subnet(
            f"public-{zone}",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=f"{cluster.region}{zone}",
            map_public_ip_on_launch=True,
            tags={**tags, "kubernetes.io/role/elb": "1"},
            opts=opts,
        )
        aws.ec2.RouteTableAssociation(
            f"public-{zone}", subnet_id=subnet.id, route_table_id=routes.id, opts=opts
        )
        subnets.append(subnet)
    return vpc, subnets


def _node_role(aws: Any, opts: Any) -> Any:
    role = aws.iam.Role("node-role", assume_role_policy=node_assume_role_policy(), opts=opts)
    for index, policy in enumerate(NODE_POLICIES):
        aws.iam.RolePolicyAttachment(
            f"node-role-{index}", role=role.name, policy_arn=policy, opts=opts
        )
    return role


def _ebs_csi(aws: Any, eks_cluster: Any, name: str, opts: Any) -> Any:
    import pulumi

    trust = pulumi.Output.all(eks_cluster.oidc_provider_arn, eks_cluster.oidc_provider_url).apply(
        lambda a: irsa_assume_role_policy(a[0], a[1], EBS_CSI_SERVICE_ACCOUNT)
    )
    role = aws.iam.Role("ebs-csi-role", assume_role_policy=trust, opts=opts)
    attachment = aws.iam.RolePolicyAttachment(
        "ebs-csi-role", role=role.name, policy_arn=EBS_CSI_POLICY, opts=opts
    )
    return aws.eks.Addon(
        "ebs-csi-driver",
        cluster_name=name,
        addon_name="aws-ebs-csi-driver",
        service_account_role_arn=role.arn,
        resolve_conflicts_on_create="OVERWRITE",
        opts=child_opts(opts, depends_on=[attachment, eks_cluster]),
    )


def _provision(
    cluster: EksCluster, context: ClusterContext, opts: pulumi.ResourceOptions
) -> ClusterHandle:
    import pulumi
    import pulumi_kubernetes as k8s

    name = context.name
    aws = _EXTRA.load("pulumi_aws")
    eks = _EXTRA.load("pulumi_eks")
    aws_provider = aws.Provider("aws", region=cluster.region, opts=child_opts(opts))
    aws_opts = child_opts(opts, provider=aws_provider)
    vpc, subnets = _network(aws, cluster, name, aws_opts)
    node_role = _node_role(aws, aws_opts)
    eks_cluster = eks.Cluster(
        "eks",
        name=name,
        version=cluster.kubernetes_version,
        vpc_id=vpc.id,
        public_subnet_ids=[s.id for s in subnets],
        skip_default_node_group=True,
        create_oidc_provider=True,
        instance_roles=[node_role],
        opts=child_opts(opts, providers={"aws": aws_provider}),
    )
    node_group = eks.ManagedNodeGroup(
        "nodes",
        cluster=eks_cluster,
        node_role=node_role,
        instance_types=[cluster.node_type],
        disk_size=cluster.disk_size_gb,
        subnet_ids=[s.id for s in subnets],
        scaling_config={
            "desired_size": cluster.node_count,
            "min_size": cluster.node_count,
            "max_size": cluster.node_count * 2,
        },
        opts=child_opts(opts, providers={"aws": aws_provider}),
    )
    ebs = _ebs_csi(aws, eks_cluster, name, aws_opts)
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
        eks_cluster.kubeconfig_json.apply(lambda k: k if isinstance(k, str) else json.dumps(k))
    )
    handle = cluster_handle(
        cluster, name, kubeconfig, opts, cluster.CAPABILITIES, depends_on=[node_group]
    )
    k8s.storage.v1.StorageClass(
        "gp3",
        metadata={
            "name": "gp3",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        provisioner="ebs.csi.aws.com",
        parameters={"type": "gp3", "encrypted": "true"},
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
        reclaim_policy="Retain" if context.protect_data else "Delete",
        opts=child_opts(opts, provider=handle.provider, depends_on=[ebs]),
    )
    return handle
