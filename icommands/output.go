package icommands

import (
	"encoding/json"
	"io"
)

// writeJSONLine writes v as one line of newline-delimited JSON.
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
