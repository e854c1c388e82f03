package yamlsplice

import (
	"bytes"
	"fmt"
	"sort"
	"unicode/utf8"
)

// BOM is the UTF-8 byte order mark a file may start with.
const BOM = "\xef\xbb\xbf"

// Source maps yaml.v3 positions (1-based line, column counted in
// characters, the BOM not counted) to byte offsets in the original data.
type Source struct {
	data  []byte
	lines []int // lines[i] is the byte offset where line i+1 starts
}

// NewSource indexes the lines of data.
func NewSource(data []byte) *Source {
	s := &Source{data: data}
	i := 0
	if bytes.HasPrefix(data, []byte(BOM)) {
		i = len(BOM)
	}
	s.lines = append(s.lines, i)
	for i < len(data) {
		if n := BreakLen(data[i:]); n > 0 {
			i += n
			s.lines = append(s.lines, i)
			continue
		}
		i++
	}
	return s
}

// BreakLen returns the length of the line break starting b, 0 if none. These
// are the breaks yaml.v3 counts lines by: CRLF, CR, LF, NEL, LS and PS.
func BreakLen(b []byte) int {
	switch {
	case len(b) >= 2 && b[0] == '\r' && b[1] == '\n':
		return 2
	case len(b) >= 1 && (b[0] == '\r' || b[0] == '\n'):
		return 1
	case len(b) >= 2 && b[0] == 0xc2 && b[1] == 0x85:
		return 2
	case len(b) >= 3 && b[0] == 0xe2 && b[1] == 0x80 && (b[2] == 0xa8 || b[2] == 0xa9):
		return 3
	}
	return 0
}

// Data is the indexed text.
func (s *Source) Data() []byte { return s.data }

// Lines is the number of lines (a final break starts an empty last line).
func (s *Source) Lines() int { return len(s.lines) }

// LineStart returns the offset where line (1-based) starts, after the BOM
// on line 1.
func (s *Source) LineStart(line int) int { return s.lines[line-1] }

// LineEnd returns the offset of the break ending line (1-based), or the end
// of the data.
func (s *Source) LineEnd(line int) int {
	i := s.lines[line-1]
	for i < len(s.data) && BreakLen(s.data[i:]) == 0 {
		i++
	}
	return i
}

// LineBreak returns the break ending line, "" for a last line without one.
func (s *Source) LineBreak(line int) string {
	e := s.LineEnd(line)
	return string(s.data[e : e+BreakLen(s.data[e:])])
}

// Break is the file's line break: the one ending its first line, "\n" for a
// file of one line.
func (s *Source) Break() string {
	if b := s.LineBreak(1); b != "" {
		return b
	}
	return "\n"
}

// LineOf returns the 1-based line holding offset off.
func (s *Source) LineOf(off int) int {
	return max(sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }), 1)
}

// Column returns the 1-based column, in characters, of offset off.
func (s *Source) Column(off int) int {
	start := s.lines[s.LineOf(off)-1]
	if off < start { // inside the BOM
		return 1
	}
	return utf8.RuneCount(s.data[start:off]) + 1
}

// Offset returns the byte offset of a yaml.v3 position; an error when it is
// not in the data.
func (s *Source) Offset(line, col int) (int, error) {
	if line < 1 || line > len(s.lines) || col < 1 {
		return 0, fmt.Errorf("line %d: position out of range", line)
	}
	off := s.lines[line-1]
	for c := 1; c < col; c++ {
		if off >= len(s.data) || BreakLen(s.data[off:]) > 0 {
			return 0, fmt.Errorf("line %d: column %d out of range", line, col)
		}
		_, n := utf8.DecodeRune(s.data[off:])
		off += n
	}
	return off, nil
}
