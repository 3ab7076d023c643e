package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ByteRange is one range of a Range header, resolved against a size: the
// bytes [Start, Start+Length).
type ByteRange struct {
	Start, Length int64
}

// maxRanges bounds the ranges of one request: many small ranges cost a
// reopen each.
const maxRanges = 32

// ParseRange reads a Range header ("bytes=0-99,200-,-50") against an
// object of size bytes, as RFC 9110 §14 says. An empty header is no
// ranges and no error. Ranges that start beyond the end are left out;
// if none is left, or the header is malformed, the error says why and the
// answer is 416.
func ParseRange(header string, size int64) ([]ByteRange, error) {
	if header == "" {
		return nil, nil
	}
	unsatisfiable := func(format string, a ...any) error {
		return reqError(http.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable",
			fmt.Sprintf("Range %q: ", cut(header, 100))+fmt.Sprintf(format, a...))
	}
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok {
		return nil, unsatisfiable("only byte ranges (bytes=START-END) are served")
	}
	var out []ByteRange
	n := 0
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if n++; n > maxRanges {
			return nil, unsatisfiable("more than %d ranges", maxRanges)
		}
		first, last, ok := strings.Cut(part, "-")
		if !ok {
			return nil, unsatisfiable("%q is not START-END", cut(part, 40))
		}
		first, last = strings.TrimSpace(first), strings.TrimSpace(last)
		var r ByteRange
		if first == "" {
			// A suffix: the last N bytes.
			if last == "" || !digits(last) {
				return nil, unsatisfiable("%q is not -N", cut(part, 40))
			}
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil {
				return nil, unsatisfiable("%q: %v", cut(part, 40), err)
			}
			if n == 0 {
				continue // the last 0 bytes: nothing
			}
			n = min(n, size)
			r = ByteRange{Start: size - n, Length: n}
		} else {
			if !digits(first) {
				return nil, unsatisfiable("%q: the start is not a number", cut(part, 40))
			}
			start, err := strconv.ParseInt(first, 10, 64)
			if err != nil {
				return nil, unsatisfiable("%q: %v", cut(part, 40), err)
			}
			end := size - 1
			if last != "" {
				if !digits(last) {
					return nil, unsatisfiable("%q: the end is not a number", cut(part, 40))
				}
				e, err := strconv.ParseInt(last, 10, 64)
				if err != nil {
					return nil, unsatisfiable("%q: %v", cut(part, 40), err)
				}
				if e < start {
					return nil, unsatisfiable("%q ends before it starts", cut(part, 40))
				}
				end = min(e, size-1)
			}
			if start >= size {
				continue // beyond the end: does not overlap
			}
			r = ByteRange{Start: start, Length: end - start + 1}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, unsatisfiable("no range overlaps the %d bytes of the object", size)
	}
	return out, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// cut shortens s for a message.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
