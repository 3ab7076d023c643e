package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
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

// startZone starts a zone with its HTTPS listener and the no-tmp-files rule.
func startZone(t testing.TB) (*testzone.Zone, string) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "rules"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "rules", "no-tmp-files.yaml"), []byte(noTmpRule), 0o644); err != nil {
		t.Fatal(err)
	}
	z := testzone.StartZone(t, dir, server.ServerConfig{HTTPAddr: "auto"})
	return z, "https://" + z.HTTPAddr
}

// browser is a cookie-keeping HTTPS client that does not follow redirects.
type browser struct {
	t      testing.TB
	base   string
	client *http.Client
}

func newBrowser(t testing.TB, z *testzone.Zone, base string) *browser {
	conf, err := tlsca.ClientTLS(z.CAFile, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, client: &http.Client{Jar: jar, Timeout: time.Minute,
		Transport:     &http.Transport{TLSClientConfig: conf},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func formOf(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, html string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", html)
	}
	return m[1]
}

// noError fails when a page shows an error.
func noError(t testing.TB, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode >= 400 || strings.Contains(body, `id="page-error"`) {
		t.Fatalf("%s: %d, an error page:\n%s", what, resp.StatusCode, body)
	}
}

func TestWebPages(t *testing.T) {
	z, base := startZone(t)
	b := newBrowser(t, z, base)

	// Not logged in: to the login page.
	resp, _ := b.get("/browse/tempZone/home/rods")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
		t.Fatalf("not logged in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.get("/login")
	noError(t, "login page", resp, page)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(page, "<script") || strings.Contains(page, " style=") || strings.Contains(page, "http://") {
		t.Errorf("the login page has script, inline style or a foreign address:\n%s", page)
	}
	// A login without the form's CSRF token is refused; a wrong password too.
	resp, body := b.post("/login", url.Values{"user": {"rods"}, "password": {testzone.AdminPassword}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Errorf("login without CSRF: %d", resp.StatusCode)
	}
	_, page = b.get("/login")
	resp, body = b.post("/login", url.Values{"csrf": {csrfOf(t, page)}, "user": {"rods"}, "password": {"wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "wrong user name or password") {
		t.Errorf("wrong password: %d\n%s", resp.StatusCode, body)
	}
	_, page = b.get("/login?next=/search")
	resp, body = b.post("/login", url.Values{"csrf": {csrfOf(t, page)}, "user": {"rods"}, "password": {testzone.AdminPassword}, "next": {"/search"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/search" {
		t.Fatalf("login: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-arca_session" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie: %+v", session)
	}

	// Browse the home collection; upload a file into it.
	resp, page = b.get("/browse/tempZone/home/rods")
	noError(t, "home", resp, page)
	csrf := csrfOf(t, page)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", "report.csv")
	fw.Write([]byte("a,b\n1,2\n"))
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/upload/tempZone/home/rods", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, body = b.do(req)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	resp, page = b.get(resp.Header.Get("Location"))
	noError(t, "after upload", resp, page)
	if !strings.Contains(page, "report.csv") || !strings.Contains(page, "Uploaded.") {
		t.Errorf("the upload is not listed:\n%s", page)
	}
	// The object page: replicas, metadata, retention, PIDs, provenance
	// (the upload recorded by rods), QoS and certificates (none yet).
	resp, page = b.get("/browse/tempZone/home/rods/report.csv")
	noError(t, "object page", resp, page)
	for _, want := range []string{"demoResc", "status-good", "sha2:", `id="retention"`, "No retention lock or legal hold.",
		`id="pids"`, "No persistent identifier and no RAiD.", `id="provenance"`, `<pre class="mono">`, `id="qos"`, "No QoS requirement applies", `id="certificates"`, "No certificate of this object"} {
		if !strings.Contains(page, want) {
			t.Errorf("the object page lacks %q", want)
		}
	}
	resp, body = b.post("/meta/tempZone/home/rods/report.csv", url.Values{"csrf": {csrfOf(t, page)}, "action": {"add"}, "attribute": {"project"}, "value": {"apollo"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("metadata: %d\n%s", resp.StatusCode, body)
	}
	_, page = b.get("/browse/tempZone/home/rods/report.csv")
	if !strings.Contains(page, "<td>project</td><td>apollo</td>") {
		t.Errorf("metadata not shown:\n%s", page)
	}
	// A form without its CSRF token changes nothing.
	resp, _ = b.post("/meta/tempZone/home/rods/report.csv", url.Values{"action": {"add"}, "attribute": {"x"}, "value": {"y"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("metadata without CSRF: %d", resp.StatusCode)
	}
	resp, body = b.get("/download/tempZone/home/rods/report.csv")
	if resp.StatusCode != 200 || body != "a,b\n1,2\n" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// Search.
	resp, page = b.get("/search?kind=data&attribute=project&op=%3D&value=apollo")
	noError(t, "search", resp, page)
	if !strings.Contains(page, "/tempZone/home/rods/report.csv") {
		t.Errorf("search did not find the object:\n%s", page)
	}
	resp, page = b.get("/search?kind=data&attribute=project&op=like&value=apo%25")
	if !strings.Contains(page, "/tempZone/home/rods/report.csv") {
		t.Errorf("like search did not find the object: %d", resp.StatusCode)
	}
	// Administration.
	for _, p := range []string{"/admin/rules", "/admin/audit", "/admin/jobs", "/admin/resources"} {
		resp, page = b.get(p)
		noError(t, p, resp, page)
	}
	_, page = b.get("/admin/rules")
	if !strings.Contains(page, "no-tmp-files") {
		t.Errorf("rules page lacks the rule")
	}
	// Path tricks are refused.
	for _, p := range []string{"/browse/tempZone/home/../../etc", "/browse/tempZone/%2e%2e/x", "/browse/tempZone%2fhome", "/browse/tempZone/%252e%252e/x"} {
		resp, _ = b.get(p)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", p, resp.StatusCode)
		}
	}
	resp, page = b.get("/no/such/page")
	if resp.StatusCode != 404 || !strings.Contains(page, "page-error") {
		t.Errorf("unknown page: %d", resp.StatusCode)
	}
	// Logout ends the session.
	_, page = b.get("/search")
	resp, _ = b.post("/logout", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	resp, _ = b.get("/browse/tempZone/home/rods")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
}
