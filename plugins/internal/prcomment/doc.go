// Package prcomment is the --comment-on-pr plumbing the verbs share: the
// flags, the forge and token resolution (through pkg/forge, with its token
// target rules) and posting a Markdown report as the one comment of a pull
// request that carries a verb's marker, updated on the next run.
//
// It may import the CLI kit (plugins/internal/cli), pkg/forge, pkg/gitrepo
// and pkg/promotion (the token variable of a forge) and nothing that talks
// to a cluster; it never imports a plugin.
package prcomment
