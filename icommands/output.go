package icommands

import (
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// writeJSONLine writes v as one line of newline-delimited JSON.
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// maxEcho is how many characters of a user's input a message repeats.
const maxEcho = 100

// clipArg is s cut to maxEcho characters, with "…" where it was cut, for
// repeating a command-line argument in a message: an argument of a
// megabyte must not come back as a megabyte of error.
func clipArg(s string) string {
	if utf8.RuneCountInString(s) <= maxEcho {
		return s
	}
	r := []rune(s)
	return string(r[:maxEcho]) + "…"
}

// quoteArg is clipArg in Go quotes, as %q writes it.
func quoteArg(s string) string { return strconv.Quote(clipArg(s)) }

// Longest runs of one message that clipMessage keeps.
const (
	maxMessage = 1000 // characters of a whole message
	keepTail   = 300  // of those, from its end (where the reason usually is)
)

var quotedRun = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// clipMessage cuts what a message repeats of oversized input, wherever the
// message comes from (the zone's messages quote names, paths and values):
// quoted strings and words longer than maxEcho characters, and then the
// message itself, keeping its start and its end.
func clipMessage(msg string) string {
	if utf8.RuneCountInString(msg) <= maxEcho {
		return msg
	}
	msg = quotedRun.ReplaceAllStringFunc(msg, func(q string) string {
		inner := q[1 : len(q)-1]
		if utf8.RuneCountInString(inner) <= maxEcho {
			return q
		}
		return `"` + clipArg(inner) + `"`
	})
	words := strings.SplitAfter(msg, " ")
	for i, w := range words {
		// Some slack, for a quoted string cut above and its punctuation.
		if utf8.RuneCountInString(w) > maxEcho+10 {
			words[i] = clipArg(w)
			if strings.HasSuffix(w, " ") {
				words[i] += " "
			}
		}
	}
	msg = strings.Join(words, "")
	if r := []rune(msg); len(r) > maxMessage {
		msg = string(r[:maxMessage-keepTail]) + " … " + string(r[len(r)-keepTail:])
	}
	return msg
}
