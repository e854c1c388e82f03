// Package imageref splits container image references the way a container
// runtime (distribution/reference, as containerd and the kubelet use it)
// does, and recognises the content digests it accepts. It is the one rule
// pkg/health and pkg/versionedit share; it imports nothing from the project.
package imageref
