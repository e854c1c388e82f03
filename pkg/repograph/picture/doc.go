// Package picture draws a repograph.Diagram as an SVG or PNG image with a
// layout of its own (layers by depth, crossings reduced by barycentre
// sweeps, environments as frames), so that no Graphviz is needed.
//
// It must not import cobra, pflag, client-go or the plugins, call os.Exit
// or write to stdout; it draws with the standard library and
// golang.org/x/image only (no Graphviz, no cgo, no WebAssembly).
package picture
