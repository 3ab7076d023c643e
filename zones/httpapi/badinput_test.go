package httpapi_test

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testzone"
	"github.com/arca-data/arca/internal/tlsca"
)

// TestBadInput: what a careless or hostile client sends gets the right
// status and a clear message, and the server goes on serving.
func TestBadInput(t *testing.T) {
	e := startEnv(t)
	tok := e.token
	hdrJSON := map[string]string{"Content-Type": "application/json"}
	for _, tc := range []struct {
		what, method, path string
		body               string
		hdr                map[string]string
		status             int
		code               string
	}{
		{"dot-dot", "GET", "/api/v1/entries/tempZone/home/../../etc/passwd", "", nil, 400, "bad_path"},
		{"encoded dot-dot", "GET", "/api/v1/entries/tempZone/%2e%2e/%2E%2E/etc", "", nil, 400, "bad_path"},
		{"encoded slash", "GET", "/api/v1/entries/tempZone%2fhome%2frods", "", nil, 400, "bad_path"},
		{"encoded backslash", "GET", "/api/v1/entries/tempZone/home%5c..%5cx", "", nil, 400, "bad_path"},
		{"double encoding", "GET", "/api/v1/entries/tempZone/%252e%252e/etc", "", nil, 400, "bad_path"},
		{"encoded NUL", "GET", "/api/v1/entries/tempZone/a%00b", "", nil, 400, "bad_path"},
		{"empty segment", "GET", "/api/v1/entries/tempZone//home", "", nil, 400, "bad_path"},
		{"dot-dot in WebDAV", "PROPFIND", "/dav/tempZone/home/rods/../../../", "", nil, 400, "bad_path"},
		{"dot-dot in the web view", "GET", "/browse/tempZone/..", "", nil, 400, "bad_path"},
		{"unknown route", "GET", "/api/v1/nothing/here", "", nil, 404, "no_route"},
		{"wrong method", "PATCH", "/api/v1/whoami", "", nil, 405, "method_not_allowed"},
		{"malformed JSON", "POST", "/api/v1/rename", `{"from": "/a", `, hdrJSON, 400, "invalid_argument"},
		{"JSON of the wrong shape", "POST", "/api/v1/rename", `{"from": 1}`, hdrJSON, 400, "invalid_argument"},
		{"unknown JSON field", "POST", "/api/v1/rename", `{"from": "/a", "to": "/b", "force": true}`, hdrJSON, 400, "invalid_argument"},
		{"two JSON values", "POST", "/api/v1/rename", `{"from": "/a", "to": "/b"} {}`, hdrJSON, 400, "invalid_argument"},
		{"no JSON body", "POST", "/api/v1/query", ``, hdrJSON, 400, "invalid_argument"},
		{"wrong content type", "POST", "/api/v1/rename", `from=/a&to=/b`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"no content type", "POST", "/api/v1/login", `{"user": "rods", "password": "x"}`, nil, 415, "unsupported_media_type"},
		{"multipart upload by PUT", "PUT", "/api/v1/objects/tempZone/home/rods/x", "--b--", map[string]string{"Content-Type": "multipart/form-data; boundary=b"}, 415, "unsupported_media_type"},
		{"oversized JSON body", "POST", "/api/v1/query", `{"query": "` + strings.Repeat("x", 2<<20) + `"}`, hdrJSON, 413, "too_large"},
		{"a bad parameter", "GET", "/api/v1/collections/tempZone/home/rods?limit=100000", "", nil, 400, "invalid_argument"},
		{"a bad boolean", "DELETE", "/api/v1/entries/tempZone/home/rods/x?recursive=perhaps", "", nil, 400, "invalid_argument"},
		{"a made-up page cursor", "GET", "/api/v1/collections/tempZone/home/rods?after=zzz", "", nil, 400, "invalid_argument"},
		{"a bad job id", "DELETE", "/api/v1/jobs/abc", "", nil, 400, "invalid_argument"},
		{"a bogus token", "GET", "/api/v1/whoami", "", map[string]string{"Authorization": "Bearer not-a-token"}, 401, "unauthenticated"},
		{"an unknown scheme", "GET", "/api/v1/whoami", "", map[string]string{"Authorization": "Digest x"}, 401, "unauthenticated"},
		{"a range of a missing object", "GET", "/api/v1/objects/tempZone/home/rods/missing", "", map[string]string{"Range": "bytes=0-1"}, 404, "not_found"},
	} {
		token := tok
		if tc.hdr != nil && tc.hdr["Authorization"] != "" {
			token = ""
		}
		var body *bytes.Reader
		if tc.body != "" {
			body = bytes.NewReader([]byte(tc.body))
		} else {
			body = bytes.NewReader(nil)
		}
		req, _ := http.NewRequest(tc.method, e.base+tc.path, body)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range tc.hdr {
			req.Header.Set(k, v)
		}
		resp, err := e.client.Do(req)
		if err != nil {
			t.Errorf("%s: %v", tc.what, err)
			continue
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		wantProblem(t, tc.what, resp, b.Bytes(), tc.status, tc.code)
		if strings.HasPrefix(tc.path, "/api/v1/") && !strings.Contains(tc.what, "dot") && tc.status != 405 && tc.code != "no_route" {
			s, _ := loadSpec()
			if err := s.check(tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), b.Bytes()); err != nil {
				t.Errorf("%s: OpenAPI: %v", tc.what, err)
			}
		}
	}

	// Oversized headers: 431 from the server, which goes on serving. (An
	// HTTP/2 client refuses to send them: the server advertises its limit.)
	conf, _ := tlsca.ClientTLS(e.z.CAFile, "127.0.0.1")
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: conf, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
	req, _ := http.NewRequest("GET", e.base+"/api/v1/whoami", nil)
	req.Header.Set("X-Padding", strings.Repeat("x", 100<<10))
	if resp, err := h1.Do(req); err != nil {
		t.Errorf("oversized header: %v", err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized header: %d", resp.StatusCode)
	}
	// A client that sends its headers too slowly is cut off.
	if c, err := net.Dial("tcp", e.z.HTTPAddr); err == nil {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		start := time.Now()
		buf := make([]byte, 1)
		_, err := c.Read(buf) // no TLS hello from us: the server must give up
		if err == nil || time.Since(start) > 25*time.Second {
			t.Errorf("a silent connection: %v after %v", err, time.Since(start))
		}
		c.Close()
	}
	var me struct{ Name string }
	e.json("GET", "/api/v1/whoami", tok, nil, 200, &me)
	if me.Name != "rods" {
		t.Errorf("the server stopped serving: %+v", me)
	}
}

// TestLoginThrottled: wrong passwords through the API are slowed down as
// through iinit (zones/auth): the same account's failures take longer and
// longer, and Basic credentials count alike.
func TestLoginThrottled(t *testing.T) {
	e := startEnv(t)
	start := time.Now()
	for i := range 3 {
		resp, body := e.do("POST", "/api/v1/login", "", strings.NewReader(`{"user": "rods", "password": "guess`+string(rune('a'+i))+`"}`), map[string]string{"Content-Type": "application/json"})
		wantProblem(t, "a wrong password", resp, body, 401, "unauthenticated")
	}
	req, _ := http.NewRequest("GET", e.base+"/api/v1/whoami", nil)
	req.SetBasicAuth("rods", "guessd")
	if resp, err := e.client.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("Basic with a wrong password: %v %v", resp, err)
	}
	// 300 ms, 600 ms, 1.2 s, 2.4 s at least.
	if d := time.Since(start); d < 4*time.Second {
		t.Errorf("four wrong passwords took %v: not throttled", d)
	}
}

// TestExpiredToken: a token past its session's end is refused with a
// message that says so.
func TestExpiredToken(t *testing.T) {
	z := testzone.StartZone(t, t.TempDir(), server.ServerConfig{HTTPAddr: "auto", SessionTTL: 2 * time.Second})
	conf, err := tlsca.ClientTLS(z.CAFile, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, z: z, base: "https://" + z.HTTPAddr, client: &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}}
	tok := e.login("rods", testzone.AdminPassword)
	e.json("GET", "/api/v1/whoami", tok, nil, 200, nil)
	time.Sleep(2500 * time.Millisecond)
	resp, body := e.do("GET", "/api/v1/whoami", tok, nil, nil)
	p := wantProblem(t, "an expired token", resp, body, 401, "unauthenticated")
	if !strings.Contains(p.Error, "expired") && !strings.Contains(p.Error, "ended") {
		t.Errorf("expired token: %q does not say it expired", p.Error)
	}
}
