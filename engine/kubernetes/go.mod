module kfstack.local/engine/kubernetes

go 1.26
