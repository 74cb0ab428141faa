module kfstack.local/engine/etcd

go 1.26
