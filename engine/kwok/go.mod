module kfstack.local/engine/kwok

go 1.26
