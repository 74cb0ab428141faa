module kfstack.local/engine/pulumi-resource-kubernetes

go 1.26
