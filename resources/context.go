package resources

import (
	"fmt"
	"slices"
	"strings"
)

// ParseContext splits a resource's context string "k=v;k=v" (iRODS's
// resource context) into a map; empty parts are skipped. Every driver and
// the resource tree read their settings from it.
func ParseContext(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("context %q: want key=value;key=value", s)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// FormatContext renders kv as "k=v;k=v" in key order.
func FormatContext(kv map[string]string) string {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+kv[k])
	}
	return strings.Join(parts, ";")
}
