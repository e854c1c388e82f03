package textdiff

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// noNewline is the marker GNU diff prints after a line that ends its file
// without a newline.
const noNewline = `\ No newline at end of file`

// change is one run of deleted and inserted lines, GNU diff's "struct change":
// del lines of a starting at line index a were replaced by ins lines of b
// starting at line index b.
type change struct {
	a, b     int
	del, ins int
}

// Unified returns a unified diff from a to b with n lines of context, headed
// "--- aName" / "+++ bName", or "" when a == b.
//
// The hunks are rendered as GNU diff -u renders them: "@@ -l,s +l,s @@"
// headers (",s" omitted when s is 1; an empty range names the line before
// it, "0,0" for an empty file), hunks whose context would touch or overlap
// merged, and "\ No newline at end of file" after a last line without one.
// The edit script is a minimal one; where several minimal ones exist, it may
// pick another than GNU diff does. A negative n is taken as 0.
func Unified(aName, bName, a, b string, n int) string {
	if a == b {
		return ""
	}
	if n < 0 {
		n = 0
	}
	aLines, bLines := splitLines(a), splitLines(b)
	changes := lineChanges(a, b)

	var out strings.Builder
	out.WriteString("--- " + aName + "\n")
	out.WriteString("+++ " + bName + "\n")
	for len(changes) > 0 {
		// Like GNU diff's find_hunk: the next change joins this hunk when
		// at most 2n unchanged lines separate them.
		last := 0
		for last+1 < len(changes) && changes[last+1].a-(changes[last].a+changes[last].del) <= 2*n {
			last++
		}
		writeHunk(&out, aLines, bLines, changes[:last+1], n)
		changes = changes[last+1:]
	}
	return out.String()
}

// lineChanges returns the changes turning a into b, in order.
//
// go-diff computes the edit script in line mode: DiffLinesToChars turns every
// distinct line into one rune, DiffMain diffs the rune strings. The runes are
// then used as they are, as line identities (what DiffCharsToLines would
// turn back into text, we take from a and b directly), to slide the changes
// the way GNU diff does before rendering.
func lineChanges(a, b string) []change {
	dmp := diffmatchpatch.New()
	// No deadline: with one, go-diff may fall back to a quick non-minimal
	// diff (and its half-match speedup is only used when a deadline is set),
	// so the output would depend on the machine's speed.
	dmp.DiffTimeout = 0
	ca, cb, _ := dmp.DiffLinesToChars(a, b)
	ids := [2][]rune{[]rune(ca), []rune(cb)}

	// changed[f][i+1] says whether line i of file f is deleted (f = 0) or
	// inserted (f = 1); the first and last elements are false sentinels, as
	// in GNU diff.
	changed := [2][]bool{make([]bool, len(ids[0])+2), make([]bool, len(ids[1])+2)}
	ai, bi := 0, 0
	for _, d := range dmp.DiffMain(ca, cb, false) {
		k := utf8.RuneCountInString(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			ai += k
			bi += k
		case diffmatchpatch.DiffDelete:
			for range k {
				ai++
				changed[0][ai] = true
			}
		case diffmatchpatch.DiffInsert:
			for range k {
				bi++
				changed[1][bi] = true
			}
		}
	}
	shiftBoundaries(ids, changed)

	// GNU diff's build_script: pair up the runs of changed lines.
	var changes []change
	c0 := func(i int) bool { return changed[0][i+1] }
	c1 := func(i int) bool { return changed[1][i+1] }
	for i0, i1 := 0, 0; i0 < len(ids[0]) || i1 < len(ids[1]); i0, i1 = i0+1, i1+1 {
		if !c0(i0) && !c1(i1) {
			continue
		}
		l0, l1 := i0, i1
		for c0(i0) {
			i0++
		}
		for c1(i1) {
			i1++
		}
		changes = append(changes, change{a: l0, b: l1, del: i0 - l0, ins: i1 - l1})
	}
	return changes
}

// shiftBoundaries is GNU diff's shift_boundaries (analyze.c): where a run of
// changed lines could equally sit elsewhere because the lines around it
// repeat, move it back to merge it with an earlier run, forward to merge it
// with a later one or else as far down as it goes, and finally back to line
// up with a run of changes in the other file. Only the placement changes,
// never the number of changed lines, so the script stays minimal; and on
// ambiguous input it mostly picks what diff -u picks.
func shiftBoundaries(ids [2][]rune, changed [2][]bool) {
	for f := range 2 {
		ch, other, equivs := changed[f], changed[1-f], ids[f]
		c := func(i int) bool { return ch[i+1] }
		oc := func(j int) bool { return other[j+1] }
		i, j, iEnd := 0, 0, len(equivs)
		for {
			// Find the start of the next run of changes, tracking the
			// corresponding line j of the other file.
			for i < iEnd && !c(i) {
				for oc(j) {
					j++
				}
				j++
				i++
			}
			if i == iEnd {
				break
			}
			start := i
			for i++; c(i); i++ {
			}
			for oc(j) {
				j++
			}
			var corresponding int
			for {
				runlength := i - start
				// Move the run back while the line before it equals its
				// last line, merging with earlier runs.
				for start > 0 && equivs[start-1] == equivs[i-1] {
					start--
					ch[start+1] = true
					i--
					ch[i+1] = false
					for c(start - 1) {
						start--
					}
					for j--; oc(j); j-- {
					}
				}
				// The end of the run where it last lined up with a run
				// in the other file; iEnd for none.
				corresponding = iEnd
				if oc(j - 1) {
					corresponding = i
				}
				// Move it forward while its first line equals the line
				// after it, merging with later runs.
				for i != iEnd && equivs[start] == equivs[i] {
					ch[start+1] = false
					start++
					ch[i+1] = true
					i++
					for c(i) {
						i++
					}
					for j++; oc(j); j++ {
						corresponding = i
					}
				}
				if runlength == i-start {
					break
				}
			}
			// Move the merged run back to a corresponding run in the
			// other file, if there is one.
			for corresponding < i {
				start--
				ch[start+1] = true
				i--
				ch[i+1] = false
				for j--; oc(j); j-- {
				}
			}
		}
	}
}

// writeHunk renders one hunk: the changes cs with up to n lines of context
// before the first and after the last.
func writeHunk(out *strings.Builder, aLines, bLines []string, cs []change, n int) {
	first, last := cs[0], cs[len(cs)-1]
	aStart := max(0, first.a-n)
	bStart := first.b - (first.a - aStart)
	aEnd := min(len(aLines), last.a+last.del+n)
	bEnd := last.b + last.ins + (aEnd - (last.a + last.del))

	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aStart, aEnd-aStart), hunkRange(bStart, bEnd-bStart))
	pos := aStart
	for _, c := range cs {
		writeLines(out, ' ', aLines[pos:c.a])
		writeLines(out, '-', aLines[c.a:c.a+c.del])
		writeLines(out, '+', bLines[c.b:c.b+c.ins])
		pos = c.a + c.del
	}
	writeLines(out, ' ', aLines[pos:aEnd])
}

// hunkRange renders a hunk's line range the way GNU diff's
// print_unidiff_number_range does: "l,s", just "l" when s is 1, and for an
// empty range the number of the line before it ("l,0"; "0,0" at the start).
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}

func writeLines(out *strings.Builder, prefix byte, lines []string) {
	for _, l := range lines {
		out.WriteByte(prefix)
		out.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			out.WriteString("\n" + noNewline + "\n")
		}
	}
}

// splitLines splits s after each newline; only the last line may lack one.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}
