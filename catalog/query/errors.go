package query

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SyntaxError is any error of Parse: a malformed query, an unknown column,
// a type error or a limit exceeded. Error() shows the offending line with a
// caret under the column:
//
//	query:1:35: expected a value after '=', found end of query
//	  select DATA_NAME where DATA_SIZE =
//	                                    ^
type SyntaxError struct {
	Query  string // the query as given
	Offset int    // byte offset of the error in Query
	Line   int    // 1-based line of the error (queries are usually one line)
	Pos    int    // 1-based column of the error on that line, in characters
	Msg    string
}

func (e *SyntaxError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "query:%d:%d: %s", e.Line, e.Pos, e.Msg)
	line := e.lineText()
	runes := []rune(line)
	col := e.Pos - 1
	if col > len(runes) {
		col = len(runes)
	}
	// Show at most a window of the line around the caret.
	const before, width = 60, 100
	from, to := 0, len(runes)
	prefix, suffix := "", ""
	if len(runes) > width {
		from = max(col-before, 0)
		to = min(from+width, len(runes))
		if from > 0 {
			prefix = "..."
		}
		if to < len(runes) {
			suffix = "..."
		}
	}
	b.WriteString("\n  ")
	b.WriteString(prefix)
	for _, r := range runes[from:to] {
		b.WriteRune(printable(r))
	}
	b.WriteString(suffix)
	b.WriteString("\n  ")
	b.WriteString(strings.Repeat(" ", len(prefix)))
	for _, r := range runes[from:col] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	return b.String()
}

// lineText returns the line of Query holding the error.
func (e *SyntaxError) lineText() string {
	off := min(max(e.Offset, 0), len(e.Query))
	start := strings.LastIndexByte(e.Query[:off], '\n') + 1
	end := strings.IndexByte(e.Query[off:], '\n')
	if end < 0 {
		return e.Query[start:]
	}
	return strings.TrimSuffix(e.Query[start:off+end], "\r")
}

func printable(r rune) rune {
	if r == '\t' || (unicode.IsPrint(r) && r != utf8.RuneError) {
		return r
	}
	return '?'
}

// errorAt builds a SyntaxError at byte offset off of src.
func errorAt(src string, off int, msg string) *SyntaxError {
	off = min(max(off, 0), len(src))
	line := 1 + strings.Count(src[:off], "\n")
	start := strings.LastIndexByte(src[:off], '\n') + 1
	pos := 1 + utf8.RuneCountInString(src[start:off])
	return &SyntaxError{Query: src, Offset: off, Line: line, Pos: pos, Msg: msg}
}
