module kfstack.local/engine/pulumi-language-python

go 1.26
