// Package golden is the suite's one golden-file helper and its one
// -update flag: Check compares what a test produced with a file, shows a
// line diff when they differ, and rewrites the file instead when the test
// runs with -update (go test ./pkg/x -run TestY -update).
//
// It is test support: only _test.go files import it. It must not import
// cobra, the plugins or pkg/ engines, and writes nothing to stdout.
package golden
