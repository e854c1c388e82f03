package textdiff

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// numbered returns lines "1\n" … "n\n", with line k replaced by repl[k].
func numbered(n int, repl map[int]string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if r, ok := repl[i]; ok {
			b.WriteString(r)
			continue
		}
		fmt.Fprintf(&b, "%d\n", i)
	}
	return b.String()
}

// handCases are unambiguous: their minimal edit script is unique up to
// where GNU diff and go-diff place it, and both place it alike, so our output
// must equal diff -u's byte for byte.
var handCases = []struct {
	name string
	a, b string
	n    int
}{
	{"identical", "a\nb\n", "a\nb\n", 3},
	{"empty-a", "", "x\ny\n", 3},
	{"empty-b", "x\ny\n", "", 3},
	{"empty-a-no-newline", "", "x", 3},
	{"single-line-change", "a\nb\nc\n", "a\nB\nc\n", 3},
	{"single-line-files", "a\n", "b\n", 3},
	{"change-at-start", numbered(10, nil), numbered(10, map[int]string{1: "one\n"}), 3},
	{"change-at-end", numbered(10, nil), numbered(10, map[int]string{10: "ten\n"}), 3},
	{"insert-at-start", numbered(6, nil), "0\n" + numbered(6, nil), 3},
	{"append-at-end", numbered(6, nil), numbered(6, nil) + "7\n", 3},
	{"no-newline-a", "a\nb\nc", "a\nb\nc\n", 3},
	{"no-newline-b", "a\nb\nc\n", "a\nb\nc", 3},
	{"no-newline-both-context", "a\nb\nc", "A\nb\nc", 3},
	{"no-newline-both-changed", "a\nb", "a\nc", 3},
	{"no-newline-single", "a", "b", 3},
	{"crlf", "a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n", 3},
	{"blank-line-removed", "a\n\nb\n", "a\nb\n", 3},
	// Changes at lines 5 and 11 leave 5 unchanged lines between them: their
	// 3-line contexts overlap, so one hunk.
	{"overlapping-contexts", numbered(20, nil), numbered(20, map[int]string{5: "five\n", 11: "eleven\n"}), 3},
	// 6 = 2n unchanged lines between: the contexts touch, still one hunk.
	{"touching-contexts", numbered(20, nil), numbered(20, map[int]string{5: "five\n", 12: "twelve\n"}), 3},
	// 7 unchanged lines between: two hunks.
	{"separate-hunks", numbered(20, nil), numbered(20, map[int]string{5: "five\n", 13: "thirteen\n"}), 3},
	{"n1-separate-hunks", numbered(12, nil), numbered(12, map[int]string{3: "three\n", 7: "seven\n"}), 1},
	{"n1-touching", numbered(12, nil), numbered(12, map[int]string{3: "three\n", 6: "six\n"}), 1},
	{"n0-change", numbered(5, nil), numbered(5, map[int]string{3: "three\n"}), 0},
	{"n0-insert", numbered(5, nil), numbered(5, map[int]string{3: "3\nthree and a half\n"}), 0},
	{"n0-insert-at-start", numbered(3, nil), "0\n" + numbered(3, nil), 0},
	{"n0-delete", numbered(5, nil), numbered(5, map[int]string{3: ""}), 0},
	{"n0-delete-first", numbered(5, nil), numbered(5, map[int]string{1: ""}), 0},
	{"n0-adjacent-changes", numbered(6, nil), numbered(6, map[int]string{2: "two\n", 4: "four\n"}), 0},
	{"n0-no-newline", "a\nb", "a\nc", 0},
	{"n5-short-file", "a\nb\nc\n", "a\nc\n", 5},
	{"delete-and-insert", numbered(8, nil), numbered(8, map[int]string{2: "", 6: "6\nsix and a half\n"}), 3},
}

func TestUnified(t *testing.T) {
	for _, tt := range handCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Unified("a/file", "b/file", tt.a, tt.b, tt.n)
			golden.CheckString(t, filepath.Join("testdata", "unified", tt.name+".golden"), got)
			if want, ok := gnuDiff(t, tt.a, tt.b, tt.n); ok {
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Unified differs from diff -u (-diff +Unified):\n%s", diff)
				}
			}
		})
	}
}

func TestUnifiedEqualIsEmpty(t *testing.T) {
	if got := Unified("a", "b", "x\n", "x\n", 3); got != "" {
		t.Errorf("Unified of equal texts = %q, want \"\"", got)
	}
	if got := Unified("a", "b", "", "", 3); got != "" {
		t.Errorf("Unified of empty texts = %q, want \"\"", got)
	}
}

func TestUnifiedNegativeContext(t *testing.T) {
	a, b := numbered(5, nil), numbered(5, map[int]string{3: "three\n"})
	if got, want := Unified("a", "b", a, b, -1), Unified("a", "b", a, b, 0); got != want {
		t.Errorf("n=-1 gave\n%s\nwant the n=0 diff\n%s", got, want)
	}
}

// TestUnifiedRandom compares Unified with diff -u on seeded random texts
// drawn from a small alphabet, so that lines repeat a lot.
//
// Repeated lines make the minimal edit script ambiguous. Unified runs GNU's
// shift_boundaries pass over go-diff's script, which settles most such cases
// the way diff -u does (about nine in ten here), but the scripts themselves
// come from different searches (GNU's compareseq with its "confusing lines"
// discarding, go-diff's bisection) and may differ, e.g. in which of two
// equal lines is kept. Both are correct diffs, so an exact comparison would
// fail for reasons that are not bugs. When the outputs differ we therefore check the effect
// instead: our diff applied to a yields b, every hunk header agrees with its
// body, contexts are exactly n lines (fewer only at the file's ends), hunks
// that should have been merged were, and we delete and insert exactly as
// many lines as GNU diff does (both are minimal on inputs this small). The
// hand cases in TestUnified keep the exact comparison.
func TestUnifiedRandom(t *testing.T) {
	if _, ok := gnuDiff(t, "", "x\n", 0); !ok {
		t.Skip("GNU diff not available")
	}
	const cases = 300
	exact := 0
	for seed := range uint64(cases) {
		r := rand.New(rand.NewPCG(seed, 0x7e57))
		a, b := randomPair(r)
		n := r.IntN(4)
		got := Unified("a/file", "b/file", a, b, n)
		want, _ := gnuDiff(t, a, b, n)
		if got == want {
			exact++
			continue
		}
		if err := checkEffect(a, b, n, got, want); err != nil {
			t.Errorf("seed %d, n=%d, a=%q, b=%q: %v\nUnified:\n%s\ndiff -u:\n%s", seed, n, a, b, err, got, want)
		}
	}
	t.Logf("%d of %d random cases identical to diff -u, the rest equivalent", exact, cases)
}

// randomPair returns a random text and a random edit of it; either may lack
// the final newline.
func randomPair(r *rand.Rand) (string, string) {
	alphabet := []string{"a", "b", "c", "d", "e", ""}
	line := func() string { return alphabet[r.IntN(len(alphabet))] }
	var a []string
	for range r.IntN(12) {
		a = append(a, line())
	}
	var b []string
	for _, l := range a {
		switch r.IntN(6) {
		case 0: // delete
		case 1: // replace
			b = append(b, line())
		case 2: // insert before
			b = append(b, line(), l)
		default:
			b = append(b, l)
		}
	}
	if r.IntN(5) == 0 {
		b = append(b, line())
	}
	join := func(ls []string) string {
		if len(ls) == 0 {
			return ""
		}
		s := strings.Join(ls, "\n") + "\n"
		if r.IntN(4) == 0 {
			s = strings.TrimSuffix(s, "\n")
		}
		return s
	}
	return join(a), join(b)
}

// hunk is a parsed "@@ -l,s +l,s @@" hunk.
type hunk struct {
	aStart, aCount, bStart, bCount int
	lines                          []string // body lines with their prefix, "\n" included
}

// parseUnified parses a diff produced by Unified (two header lines, hunks),
// checking every hunk header against its body.
func parseUnified(d string) ([]hunk, error) {
	lines := strings.SplitAfter(d, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		return nil, errors.New("missing --- / +++ headers")
	}
	var hunks []hunk
	for _, l := range lines[2:] {
		switch {
		case l == "":
		case strings.HasPrefix(l, "@@ "):
			var a, b string
			if _, err := fmt.Sscanf(l, "@@ -%s +%s @@\n", &a, &b); err != nil {
				return nil, fmt.Errorf("bad hunk header %q: %w", l, err)
			}
			var h hunk
			h.aStart, h.aCount = parseRange(a)
			h.bStart, h.bCount = parseRange(b)
			hunks = append(hunks, h)
		case len(hunks) == 0:
			return nil, fmt.Errorf("line %q before the first hunk", l)
		case l == noNewline+"\n":
			h := &hunks[len(hunks)-1]
			if len(h.lines) == 0 {
				return nil, errors.New("no-newline marker at the start of a hunk")
			}
			h.lines[len(h.lines)-1] = strings.TrimSuffix(h.lines[len(h.lines)-1], "\n")
		default:
			h := &hunks[len(hunks)-1]
			h.lines = append(h.lines, l)
		}
	}
	for _, h := range hunks {
		var na, nb int
		for _, l := range h.lines {
			switch l[0] {
			case ' ':
				na++
				nb++
			case '-':
				na++
			case '+':
				nb++
			default:
				return nil, fmt.Errorf("bad hunk line %q", l)
			}
		}
		if na != h.aCount || nb != h.bCount {
			return nil, fmt.Errorf("hunk -%d,%d +%d,%d has %d old and %d new lines", h.aStart, h.aCount, h.bStart, h.bCount, na, nb)
		}
	}
	return hunks, nil
}

// parseRange parses "l,s" or "l" into a 0-based start line and a count,
// undoing GNU's convention that an empty range names the line before it.
func parseRange(r string) (start, count int) {
	l, s, ok := strings.Cut(r, ",")
	start, _ = strconv.Atoi(l)
	count = 1
	if ok {
		count, _ = strconv.Atoi(s)
	}
	if count > 0 {
		start--
	}
	return start, count
}

// checkEffect checks a diff that differs from GNU's for being an equally
// good one (see TestUnifiedRandom).
func checkEffect(a, b string, n int, got, gnu string) error {
	hunks, err := parseUnified(got)
	if err != nil {
		return err
	}
	aLines := splitLines(a)
	var out []string
	pos, bPos := 0, 0
	for i, h := range hunks {
		if h.aStart < pos || h.aStart+h.aCount > len(aLines) {
			return fmt.Errorf("hunk %d: range -%d,%d out of order or past the end", i, h.aStart, h.aCount)
		}
		if i > 0 && h.aStart == pos {
			// With n context lines on both sides, touching hunks have at
			// most 2n unchanged lines between their changes.
			return fmt.Errorf("hunk %d touches the previous one: they should be one hunk", i)
		}
		out = append(out, aLines[pos:h.aStart]...)
		bPos += h.aStart - pos
		if h.bStart != bPos {
			return fmt.Errorf("hunk %d: new range starts at %d, want %d", i, h.bStart, bPos)
		}
		pos = h.aStart
		for _, l := range h.lines {
			switch l[0] {
			case ' ', '-':
				if aLines[pos] != l[1:] {
					return fmt.Errorf("hunk %d: line %q does not match a's line %d %q", i, l, pos+1, aLines[pos])
				}
				pos++
			}
			if l[0] != '-' {
				out = append(out, l[1:])
			}
		}
		bPos += h.bCount
		if err := checkContext(h, n, i == 0, i == len(hunks)-1, len(aLines)); err != nil {
			return fmt.Errorf("hunk %d: %w", i, err)
		}
	}
	out = append(out, aLines[pos:]...)
	if got := strings.Join(out, ""); got != b {
		return fmt.Errorf("applying the diff to a gives %q", got)
	}
	ga, gb := countChanges(got)
	wa, wb := countChanges(gnu)
	if ga != wa || gb != wb {
		return fmt.Errorf("deletes %d and inserts %d lines, diff -u %d and %d", ga, gb, wa, wb)
	}
	return nil
}

// checkContext checks that a hunk has n context lines around its changes
// (fewer only at the ends of a), and at most 2n unchanged lines between two
// changes (more would have split the hunk).
func checkContext(h hunk, n int, first, last bool, aLen int) error {
	lead := 0
	for lead < len(h.lines) && h.lines[lead][0] == ' ' {
		lead++
	}
	trail := 0
	for trail < len(h.lines) && h.lines[len(h.lines)-1-trail][0] == ' ' {
		trail++
	}
	// Fewer than n context lines only where the file starts or ends.
	atStart := first && h.aStart == 0
	atEnd := last && h.aStart+h.aCount == aLen
	if lead > n || (lead < n && !atStart) {
		return fmt.Errorf("%d leading context lines, want %d", lead, n)
	}
	if trail > n || (trail < n && !atEnd) {
		return fmt.Errorf("%d trailing context lines, want %d", trail, n)
	}
	run := 0
	for _, l := range h.lines[lead : len(h.lines)-trail] {
		if l[0] != ' ' {
			run = 0
			continue
		}
		if run++; run > 2*n {
			return fmt.Errorf("more than %d unchanged lines inside the hunk", 2*n)
		}
	}
	return nil
}

func countChanges(d string) (del, ins int) {
	for _, l := range strings.Split(d, "\n")[2:] {
		switch {
		case strings.HasPrefix(l, "-"):
			del++
		case strings.HasPrefix(l, "+"):
			ins++
		}
	}
	return del, ins
}

var (
	gnuOnce sync.Once
	gnuPath string
)

// gnuDiff runs GNU diff -u with n lines of context on a and b, labelled
// "a/file" and "b/file" like Unified's output in the tests. With --label,
// diff prints the names instead of names and timestamps in the two header
// lines, so whole outputs can be compared. ok is false when GNU diff is not
// installed (BSD diff formats some corner cases differently).
func gnuDiff(t *testing.T, a, b string, n int) (out string, ok bool) {
	t.Helper()
	gnuOnce.Do(func() {
		p, err := exec.LookPath("diff")
		if err != nil {
			return
		}
		v, err := exec.Command(p, "--version").Output()
		if err == nil && bytes.Contains(v, []byte("GNU diffutils")) {
			gnuPath = p
		}
	})
	if gnuPath == "" {
		return "", false
	}
	dir := t.TempDir()
	fa, fb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(fa, []byte(a), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fb, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gnuPath, "--unified="+strconv.Itoa(n), "--label", "a/file", "--label", "b/file", fa, fb)
	stdout, err := cmd.Output()
	var exit *exec.ExitError
	differ := errors.As(err, &exit) && exit.ExitCode() == 1 // exit status 1: the files differ
	if err != nil && !differ {
		t.Fatalf("running diff: %v", err)
	}
	return string(stdout), true
}
