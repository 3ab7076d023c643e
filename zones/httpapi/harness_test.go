package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testzone"
	"github.com/arca-data/arca/internal/tlsca"
)

// noTmpRule is the shipped example rule that refuses temporary files.
const noTmpRule = `rules:
  - name: no-tmp-files
    description: editors' and tools' scratch files are not archived
    on: [put, copy, rename]
    when: pre
    condition: >-
      (op.name == "put" ? object.name : dest.name).matches("(\\.(tmp|swp|part)|~)$")
    deny: '"temporary files are not archived: " + (op.name == "put" ? object.path : dest.path)'
`

// env is a running zone with its HTTPS listener, and a client that trusts
// the zone's CA.
type env struct {
	t      testing.TB
	z      *testzone.Zone
	base   string // https://host:port
	client *http.Client
	token  string // rods's bearer token
}

func startEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules", "no-tmp-files.yaml"), []byte(noTmpRule), 0o644); err != nil {
		t.Fatal(err)
	}
	z := testzone.StartZone(t, dir, server.ServerConfig{HTTPAddr: "auto"})
	conf, err := tlsca.ClientTLS(z.CAFile, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, z: z, base: "https://" + z.HTTPAddr, client: &http.Client{
		Transport: &http.Transport{TLSClientConfig: conf, ForceAttemptHTTP2: true},
		Timeout:   2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
	e.token = e.login("rods", testzone.AdminPassword)
	return e
}

// login returns a bearer token of user.
func (e *env) login(user, password string) string {
	e.t.Helper()
	var out struct{ Token string }
	e.json("POST", "/api/v1/login", "", map[string]string{"user": user, "password": password}, 200, &out)
	if out.Token == "" {
		e.t.Fatal("login gave no token")
	}
	return out.Token
}

// do sends a request and returns the response with its body read.
func (e *env) do(method, path, token string, body io.Reader, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	// Every answer of the API is held to the OpenAPI document.
	if strings.HasPrefix(path, "/api/v1/") {
		s, err := loadSpec()
		if err != nil {
			e.t.Fatal(err)
		}
		if err := s.check(method, path, resp.StatusCode, resp.Header.Get("Content-Type"), b); err != nil {
			e.t.Errorf("OpenAPI: %v", err)
		}
	}
	return resp, b
}

// json sends v as JSON (nil: no body), wants status, and decodes the answer into out.
func (e *env) json(method, path, token string, v any, status int, out any) *http.Response {
	e.t.Helper()
	var body io.Reader
	hdr := map[string]string{}
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
		hdr["Content-Type"] = "application/json"
	}
	resp, b := e.do(method, path, token, body, hdr)
	if resp.StatusCode != status {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp
}

// problem is the error body of the API.
type problem struct {
	Error, Code, Rule string
	Status            int
}

// wantProblem checks a response is the JSON error of status and code.
func wantProblem(t testing.TB, what string, resp *http.Response, body []byte, status int, code string) problem {
	t.Helper()
	var p problem
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d; body %s", what, resp.StatusCode, status, body)
		return p
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want JSON; body %s", what, ct, body)
		return p
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Errorf("%s: %v in %s", what, err, body)
		return p
	}
	if p.Error == "" || p.Status != status || (code != "" && p.Code != code) {
		t.Errorf("%s: problem %+v, want status %d code %s and a message", what, p, status, code)
	}
	return p
}
