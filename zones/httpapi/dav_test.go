package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/arca-data/arca/internal/testzone"
)

// davDo sends a WebDAV request with HTTP Basic credentials.
func davDo(t *testing.T, e *env, method, path string, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("rods", testzone.AdminPassword)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func wantStatus(t *testing.T, what string, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: %d, want %d\n%s", what, resp.StatusCode, status, body)
	}
}

// TestWebDAV: the methods of WebDAV class 1 and 2 through the zone.
func TestWebDAV(t *testing.T) {
	e := startEnv(t)
	home := "/dav/tempZone/home/rods"
	resp, body := davDo(t, e, "OPTIONS", home+"/", "", nil)
	wantStatus(t, "OPTIONS", resp, body, 200)
	if !strings.Contains(resp.Header.Get("DAV"), "2") {
		t.Errorf("DAV: %q", resp.Header.Get("DAV"))
	}
	resp, body = davDo(t, e, "MKCOL", home+"/tree", "", nil)
	wantStatus(t, "MKCOL", resp, body, 201)
	resp, body = davDo(t, e, "MKCOL", home+"/tree/a/b", "", nil)
	wantStatus(t, "MKCOL without the parent", resp, body, 409)
	// Where something is, 405 (RFC 4918, 9.3.1), which tells a client
	// (rclone) that the collection is there; 409 would say a parent is
	// missing.
	resp, body = davDo(t, e, "MKCOL", home+"/tree", "", nil)
	wantStatus(t, "MKCOL of a collection that is there", resp, body, 405)
	if !strings.Contains(body, "already_exists") {
		t.Errorf("MKCOL of a collection that is there: %s", body)
	}
	resp, body = davDo(t, e, "PUT", home+"/tree/one.txt", "first file\n", nil)
	wantStatus(t, "PUT", resp, body, 201)
	if !strings.HasPrefix(resp.Header.Get("ETag"), `"sha2:`) {
		t.Errorf("PUT ETag %q", resp.Header.Get("ETag"))
	}
	resp, body = davDo(t, e, "MKCOL", home+"/tree/one.txt", "", nil)
	wantStatus(t, "MKCOL of a data object that is there", resp, body, 405)
	resp, body = davDo(t, e, "PUT", home+"/tree/one.txt", "first file, again\n", nil)
	wantStatus(t, "PUT over", resp, body, 201)
	resp, body = davDo(t, e, "PUT", home+"/tree/empty", "", nil)
	wantStatus(t, "PUT of nothing", resp, body, 201)
	resp, body = davDo(t, e, "GET", home+"/tree/one.txt", "", nil)
	wantStatus(t, "GET", resp, body, 200)
	if body != "first file, again\n" {
		t.Errorf("GET: %q", body)
	}
	resp, body = davDo(t, e, "GET", home+"/tree/one.txt", "", map[string]string{"Range": "bytes=6-9"})
	if resp.StatusCode != 206 || body != "file" {
		t.Errorf("GET range: %d %q", resp.StatusCode, body)
	}
	resp, body = davDo(t, e, "PROPFIND", home+"/tree/", "", map[string]string{"Depth": "1"})
	wantStatus(t, "PROPFIND", resp, body, 207)
	for _, want := range []string{"one.txt", "empty", "<D:collection", "sha2:"} {
		if !strings.Contains(body, want) {
			t.Errorf("PROPFIND lacks %q:\n%s", want, body)
		}
	}
	resp, body = davDo(t, e, "COPY", home+"/tree/one.txt", "", map[string]string{"Destination": e.base + home + "/tree/two.txt"})
	wantStatus(t, "COPY", resp, body, 201)
	resp, body = davDo(t, e, "MOVE", home+"/tree/two.txt", "", map[string]string{"Destination": e.base + home + "/tree/three.txt"})
	wantStatus(t, "MOVE", resp, body, 201)
	resp, body = davDo(t, e, "GET", home+"/tree/three.txt", "", nil)
	if resp.StatusCode != 200 || body != "first file, again\n" {
		t.Errorf("GET after COPY and MOVE: %d %q", resp.StatusCode, body)
	}
	resp, body = davDo(t, e, "DELETE", home+"/tree/three.txt", "", nil)
	wantStatus(t, "DELETE", resp, body, 204)
	resp, body = davDo(t, e, "GET", home+"/tree/three.txt", "", nil)
	wantStatus(t, "GET after DELETE", resp, body, 404)

	// A rule denies a put through WebDAV as it denies iput: 403 and why.
	resp, body = davDo(t, e, "PUT", home+"/tree/draft.tmp", "scratch", nil)
	p := wantProblem(t, "a PUT a rule denies", resp, []byte(body), 403, "denied_by_rule")
	if p.Rule != "no-tmp-files" {
		t.Errorf("denial: %+v", p)
	}
	resp, body = davDo(t, e, "MOVE", home+"/tree/one.txt", "", map[string]string{"Destination": e.base + home + "/tree/one.swp"})
	wantProblem(t, "a MOVE a rule denies", resp, []byte(body), 403, "denied_by_rule")

	// Class 2: a lock keeps others' writes out; its token lets its holder in.
	lockBody := `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>test</D:owner></D:lockinfo>`
	resp, body = davDo(t, e, "LOCK", home+"/tree/one.txt", lockBody, map[string]string{"Timeout": "Second-60"})
	wantStatus(t, "LOCK", resp, body, 200)
	token := resp.Header.Get("Lock-Token")
	if token == "" {
		t.Fatalf("LOCK gave no token:\n%s", body)
	}
	resp, body = davDo(t, e, "PUT", home+"/tree/one.txt", "not mine\n", nil)
	wantStatus(t, "PUT on a locked object without its token", resp, body, 423)
	resp, body = davDo(t, e, "PUT", home+"/tree/one.txt", "mine\n", map[string]string{"If": "(" + token + ")"})
	wantStatus(t, "PUT with the lock's token", resp, body, 201)
	resp, body = davDo(t, e, "UNLOCK", home+"/tree/one.txt", "", map[string]string{"Lock-Token": token})
	wantStatus(t, "UNLOCK", resp, body, 204)

	// Without credentials: 401 that asks for Basic.
	req, _ := http.NewRequest("PROPFIND", e.base+home+"/", nil)
	r2, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 401 || !strings.HasPrefix(r2.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("no credentials: %d %q", r2.StatusCode, r2.Header.Get("WWW-Authenticate"))
	}
	// The bearer token works too.
	resp, raw := e.do("PROPFIND", home+"/", e.token, nil, map[string]string{"Depth": "0"})
	if resp.StatusCode != 207 {
		t.Errorf("PROPFIND with a bearer token: %d %s", resp.StatusCode, raw)
	}
	// What the API sees is what WebDAV wrote.
	var entry struct{ Size int64 }
	e.json("GET", "/api/v1/entries/tempZone/home/rods/tree/one.txt", e.token, nil, 200, &entry)
	if entry.Size != 5 {
		t.Errorf("size after the locked PUT: %d", entry.Size)
	}
}
