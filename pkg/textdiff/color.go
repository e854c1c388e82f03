package textdiff

import (
	"fmt"
	"strings"
)

// ANSI SGR sequences used by Colorize.
const (
	bold  = "\x1b[1m"
	cyan  = "\x1b[36m"
	red   = "\x1b[31m"
	green = "\x1b[32m"
	reset = "\x1b[0m"
)

// Colorize colours a unified diff for a terminal: headers bold, @@ lines
// cyan, - red, + green; context lines and "\ No newline at end of file"
// markers stay plain.
//
// It follows the line counts of each hunk header, so a removed line that
// reads "--- x" is coloured as a removal, not as a header, and several
// diffs concatenated (each with its own headers) are coloured correctly.
// Whether to colour at all (a TTY, NO_COLOR) is the caller's decision.
func Colorize(diff string) string {
	if diff == "" {
		return ""
	}
	var out strings.Builder
	out.Grow(len(diff) + len(diff)/4)
	remA, remB := 0, 0 // lines of the current hunk still to come
	lines := strings.SplitAfter(diff, "\n")
	for _, l := range lines {
		if l == "" {
			continue // after the final newline
		}
		body, nl := strings.CutSuffix(l, "\n")
		color := ""
		switch {
		case remA > 0 || remB > 0:
			first := byte(' ') // an empty line is context whose space was trimmed
			if body != "" {
				first = body[0]
			}
			switch first {
			case ' ':
				remA--
				remB--
			case '-':
				remA--
				color = red
			case '+':
				remB--
				color = green
			case '\\':
			default:
				// Not a hunk line after all: the hunk header lied. Treat
				// the line as outside any hunk.
				remA, remB = 0, 0
				color = outside(body, &remA, &remB)
			}
		default:
			color = outside(body, &remA, &remB)
		}
		if color != "" && body != "" {
			out.WriteString(color + body + reset)
		} else {
			out.WriteString(body)
		}
		if nl {
			out.WriteByte('\n')
		}
	}
	return out.String()
}

// outside returns the colour of a line outside any hunk: cyan for a hunk
// header (whose counts it stores in remA and remB), none for a marker or an
// empty line, bold for anything else (---, +++, and lines such as
// "diff --git" that tools put before them).
func outside(body string, remA, remB *int) string {
	switch {
	case strings.HasPrefix(body, "@@ "):
		*remA, *remB = hunkCounts(body)
		return cyan
	case body == "" || strings.HasPrefix(body, `\`):
		return ""
	}
	return bold
}

// hunkCounts returns the line counts of a "@@ -l,s +l,s @@" header; 0, 0
// when it cannot be parsed.
func hunkCounts(header string) (int, int) {
	var a, b string
	if _, err := fmt.Sscanf(header, "@@ -%s +%s @@", &a, &b); err != nil {
		return 0, 0
	}
	return rangeCount(a), rangeCount(b)
}

// rangeCount returns s of "l,s", or 1 for a bare "l".
func rangeCount(r string) int {
	_, s, ok := strings.Cut(r, ",")
	if !ok {
		return 1
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n < 0 {
		return 0
	}
	return n
}
