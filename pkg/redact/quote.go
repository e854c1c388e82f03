package redact

import (
	"strconv"
	"unicode/utf8"
)

// quotePrefix is the most characters of user data an error message shows.
const quotePrefix = 4

// Quote renders a value of user data (a file's content, a command-line
// argument or flag value) for an error message, where it may be a secret
// typed in the wrong place: at most its first 4 characters and never more
// than half of them, then "…", Go-quoted — "canary-s3cr3t" gives "cana…",
// "ture" gives "tu…", "" gives "". Every message quoting such data uses it,
// so one rule says how much shows.
func Quote(s string) string {
	if s == "" {
		return `""`
	}
	n := min(quotePrefix, utf8.RuneCountInString(s)/2)
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return strconv.Quote(s[:i] + "…")
}
