package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxFormatWidth bounds the width and precision of a format verb.
const MaxFormatWidth = 4096

// Format renders one result row with an iquest format string, as in
// `iquest "%s/%s" "select COLL_NAME, DATA_NAME ..."`. The format is C printf
// restricted to strings: each %s takes the next column, with optional
// flags as in iquest's examples (%-12.12s: left-justified, width 12, at most
// 12 characters; widths count characters, not bytes), and %% is a literal
// percent sign. Backslash sequences are not interpreted, as in iquest. The
// number of verbs must equal len(row). No newline is added.
func Format(format string, row []string) (string, error) {
	pieces, err := parseFormat(format)
	if err != nil {
		return "", err
	}
	if n := countVerbs(pieces); n != len(row) {
		return "", fmt.Errorf("format %q has %d %%s for %d columns", clip(format), n, len(row))
	}
	var b strings.Builder
	col := 0
	for _, p := range pieces {
		if !p.verb {
			b.WriteString(p.lit)
			continue
		}
		s := row[col]
		col++
		if p.prec >= 0 && utf8.RuneCountInString(s) > p.prec {
			s = string([]rune(s)[:p.prec])
		}
		pad := p.width - utf8.RuneCountInString(s)
		if pad > 0 && !p.left {
			b.WriteString(strings.Repeat(" ", pad))
		}
		b.WriteString(s)
		if pad > 0 && p.left {
			b.WriteString(strings.Repeat(" ", pad))
		}
	}
	return b.String(), nil
}

// CheckFormat reports whether format is valid for rows of n columns, so a
// client can reject it before running the query.
func CheckFormat(format string, n int) error {
	pieces, err := parseFormat(format)
	if err != nil {
		return err
	}
	if v := countVerbs(pieces); v != n {
		return fmt.Errorf("format %q has %d %%s but the query selects %d columns", clip(format), v, n)
	}
	return nil
}

type fmtPiece struct {
	lit   string // literal text, when !verb
	verb  bool
	left  bool // '-' flag
	width int  // 0: none
	prec  int  // -1: none
}

func countVerbs(pieces []fmtPiece) int {
	n := 0
	for _, p := range pieces {
		if p.verb {
			n++
		}
	}
	return n
}

func parseFormat(format string) ([]fmtPiece, error) {
	var pieces []fmtPiece
	var lit strings.Builder
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		start := i
		i++
		if i < len(format) && format[i] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		p := fmtPiece{verb: true, prec: -1}
		for i < len(format) && format[i] == '-' {
			p.left = true
			i++
		}
		var ok bool
		if p.width, i, ok = formatNumber(format, i); !ok {
			return nil, fmt.Errorf("format %q: width at offset %d is larger than %d", clip(format), start, MaxFormatWidth)
		}
		if i < len(format) && format[i] == '.' {
			i++
			if p.prec, i, ok = formatNumber(format, i); !ok {
				return nil, fmt.Errorf("format %q: precision at offset %d is larger than %d", clip(format), start, MaxFormatWidth)
			}
		}
		if i >= len(format) {
			return nil, fmt.Errorf("format %q ends inside a verb; write %%%% for a percent sign", clip(format))
		}
		if format[i] != 's' {
			r, _ := utf8.DecodeRuneInString(format[i:])
			return nil, fmt.Errorf("format %q: unsupported verb %%%c at offset %d: only %%s (with optional -, width and .precision) and %%%% are allowed", clip(format), r, start)
		}
		i++
		if lit.Len() > 0 {
			pieces = append(pieces, fmtPiece{lit: lit.String()})
			lit.Reset()
		}
		pieces = append(pieces, p)
	}
	if lit.Len() > 0 {
		pieces = append(pieces, fmtPiece{lit: lit.String()})
	}
	return pieces, nil
}

// formatNumber reads decimal digits at i (0 if none); ok is false if the
// number exceeds MaxFormatWidth.
func formatNumber(s string, i int) (n, next int, ok bool) {
	for i < len(s) && isDigit(s[i]) {
		n = n*10 + int(s[i]-'0')
		if n > MaxFormatWidth {
			return 0, i, false
		}
		i++
	}
	return n, i, true
}
