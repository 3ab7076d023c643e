package web_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arca-data/arca/icommands"
	"github.com/arca-data/arca/internal/testzone"
)

// icommand runs one icommand in-process as rods, with its configuration
// in cfg, and returns its standard output.
func icommand(t *testing.T, cfg string, name string, args ...string) string {
	t.Helper()
	var out, errBuf bytes.Buffer
	s := &icommands.Streams{In: bytes.NewReader(nil), Out: &out, Err: &errBuf, Getenv: func(k string) string {
		switch k {
		case "ARCA_CONFIG_DIR":
			return cfg
		case "ARCA_PASSWORD":
			return testzone.AdminPassword
		}
		return os.Getenv(k)
	}}
	for _, c := range icommands.Commands(s) {
		if c.Name() == name {
			if code := icommands.Run(context.Background(), c, args, s); code != 0 {
				t.Fatalf("%s %v: exit %d: %s", name, args, code, errBuf.String())
			}
			return out.String()
		}
	}
	t.Fatalf("no icommand %s", name)
	return ""
}

// The object page shows the QoS requirements that apply to the object,
// with their status, and its certificates, the superseded one marked.
func TestObjectPageQoSAndCertificates(t *testing.T) {
	z, base := startZone(t)
	cfg := filepath.Join(t.TempDir(), "arca")
	icommand(t, cfg, "iinit", "--host", z.Host, "--port", z.Port, "--ca", z.CAFile, "--user", "rods")
	local := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(local, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	icommand(t, cfg, "iput", local, "/tempZone/home/rods/data.csv")
	icommand(t, cfg, "iadmin", "modresc", "demoResc", "qos", "type=disk,geo=DE")
	icommand(t, cfg, "iqos", "add", "/tempZone/home/rods", "type=disk", "--replicas", "1")
	icommand(t, cfg, "iqos", "add", "/tempZone/home/rods/data.csv", "type=tape", "--replicas", "1")
	icommand(t, cfg, "icert", "issue", "-o", filepath.Join(t.TempDir(), "c1.json"), "/tempZone/home/rods/data.csv")
	c2 := filepath.Join(t.TempDir(), "c2.json")
	icommand(t, cfg, "icert", "issue", "-o", c2, "/tempZone/home/rods/data.csv")
	// The certificate says what QoS asks and what was seen, and where.
	shown := icommand(t, cfg, "icert", "show", "--json", c2)
	for _, want := range []string{"type=disk x1", "type=tape x1", "impossible", `"geo":"DE"`} {
		if !strings.Contains(strings.ReplaceAll(shown, " ", ""), strings.ReplaceAll(want, " ", "")) {
			t.Errorf("icert show lacks %q:\n%s", want, shown)
		}
	}

	b := newBrowser(t, z, base)
	_, page := b.get("/login")
	resp, body := b.post("/login", url.Values{"csrf": {csrfOf(t, page)}, "user": {"rods"}, "password": {testzone.AdminPassword}, "next": {"/"}})
	if resp.StatusCode != 303 {
		t.Fatalf("login: %d\n%s", resp.StatusCode, body)
	}
	resp, page = b.get("/browse/tempZone/home/rods/data.csv")
	noError(t, "object page", resp, page)
	for _, want := range []string{
		`id="qos-table"`, `<td class="mono">type=disk</td><td>1</td><td>/tempZone/home/rods</td><td class="qos-fulfilled">fulfilled</td>`,
		`<td class="mono">type=tape</td><td>1</td><td>this object</td><td class="qos-impossible">impossible: `,
		`id="certificates-table"`, "superseded by ", "<td>current</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the object page lacks %q", want)
		}
	}
	if strings.Contains(page, "Not available yet") {
		t.Error("a panel still says it is not available yet")
	}
}
