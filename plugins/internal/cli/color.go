package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// ColorEnabled reports whether output written to w may carry ANSI colour:
// only when w is a terminal, NO_COLOR is unset or empty (https://no-color.org)
// and TERM is not "dumb".
func ColorEnabled(w io.Writer) bool {
	return colorEnabled(w, os.Getenv)
}

func colorEnabled(w io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}
