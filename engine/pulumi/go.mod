module kfstack.local/engine/pulumi

go 1.26

// Copied from pulumi/pkg/v3's go.mod: the CLI needs the fork of the clipboard module.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
