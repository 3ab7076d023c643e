package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// ParseURLPath turns the escaped tail of a URL (after a route's prefix,
// such as "tempZone/home/alice/a%20b.txt") into a logical path. Every
// segment is decoded once; what could reach another path than it seems
// is refused: "." and "..", plain or encoded, an encoded slash or
// backslash, an encoded NUL, double encoding (%25 followed by a
// hex pair), empty segments. "" and "/" are the root.
func ParseURLPath(escaped string) (catalog.Path, error) {
	escaped = strings.TrimPrefix(escaped, "/")
	escaped = strings.TrimSuffix(escaped, "/")
	if escaped == "" {
		return catalog.MustPath("/"), nil
	}
	segs := strings.Split(escaped, "/")
	names := make([]string, len(segs))
	for i, seg := range segs {
		name, err := urlSegment(seg)
		if err != nil {
			return catalog.Path{}, err
		}
		names[i] = name
	}
	p, err := catalog.ParsePath("/" + strings.Join(names, "/"))
	if err != nil {
		return catalog.Path{}, badRequest("bad_path", err.Error())
	}
	return p, nil
}

// urlSegment decodes one escaped path segment, refusing what ParseURLPath
// refuses.
func urlSegment(seg string) (string, error) {
	if seg == "" {
		return "", badRequest("bad_path", "the URL has an empty path segment (//)")
	}
	if err := checkEscapes(seg); err != nil {
		return "", err
	}
	name, err := url.PathUnescape(seg)
	if err != nil {
		return "", badRequest("bad_path", fmt.Sprintf("path segment %q: %v", seg, err))
	}
	if name == "." || name == ".." {
		return "", badRequest("bad_path", fmt.Sprintf("path segment %q: . and .. are not allowed in URLs", seg))
	}
	return name, nil
}

// checkEscapes refuses the escapes no legitimate URL of Arca needs: %2F and
// %5C (a slash hidden in a name), %00, and %25 followed by a hex pair
// (an escape escaped again, which a second decoder would undo).
func checkEscapes(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+2 >= len(s) {
			return badRequest("bad_path", fmt.Sprintf("%q: a %% that starts no escape", s))
		}
		switch strings.ToUpper(s[i+1 : i+3]) {
		case "2F", "5C":
			return badRequest("bad_path", fmt.Sprintf("%q: encoded slashes are not allowed in URLs", s))
		case "00":
			return badRequest("bad_path", fmt.Sprintf("%q: an encoded NUL is not allowed in URLs", s))
		case "25":
			if i+4 < len(s) && ishex(s[i+3]) && ishex(s[i+4]) {
				return badRequest("bad_path", fmt.Sprintf("%q: double encoding is not allowed in URLs", s))
			}
		}
	}
	return nil
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// checkURL refuses a request path that could be read as another path: the
// same checks as ParseURLPath, on the whole escaped path, before any mux
// cleans it (ServeMux answers ".." with a redirect to the cleaned path).
func checkURL(r *http.Request) error {
	esc := r.URL.EscapedPath()
	if !strings.HasPrefix(esc, "/") {
		return badRequest("bad_path", "the URL path is not absolute")
	}
	if strings.ContainsRune(esc, '\\') {
		return badRequest("bad_path", "a backslash is not allowed in URLs")
	}
	rest := strings.TrimSuffix(esc[1:], "/")
	if rest == "" {
		return nil
	}
	for seg := range strings.SplitSeq(rest, "/") {
		if _, err := urlSegment(seg); err != nil {
			return err
		}
	}
	return nil
}

// Guard is what every request of the HTTPS listener passes first: it refuses
// paths that could reach another path than they seem (see ParseURLPath),
// and sets the headers that make browsers careful: no sniffing, no framing,
// no referrers, HTTPS only, and a Content-Security-Policy that allows
// nothing from elsewhere and no inline script (a part may set a stricter
// one).
func Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Strict-Transport-Security", "max-age=31536000")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		if err := checkURL(r); err != nil {
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
