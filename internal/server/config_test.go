package server

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/zones/auth"
	"gopkg.in/yaml.v3"
)

const fullConfig = `# arca.yaml
addr: 0.0.0.0:1247
http: 0.0.0.0:8443
zone: labZone
log_level: debug
lease: 2m
session_ttl: 12h
ldap:
  url: ldaps://ldap.example.org
  base: ou=people,dc=example,dc=org
  user_attr: sAMAccountName
  user_filter: (objectClass=person)
  group_base: ou=groups,dc=example,dc=org
  group_attr: cn
  group_map: {"Lab Members": lab, physics: physics}
  bind_dn: cn=arca,ou=services,dc=example,dc=org
  bind_password_file: ldap-password
  ca: /etc/arca/ldap-ca.pem
  provision: false
  timeout: 5s
  recheck_interval: 30m
connections:
  max: 1000
  per_host: 50
  idle_timeout: 30s
  keepalive_time: 15s
  keepalive_timeout: 5s
`

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	sc, level := c.ServerConfig()
	if sc.Addr != "0.0.0.0:1247" || sc.HTTPAddr != "0.0.0.0:8443" || sc.Zone != "labZone" || sc.Lease != 2*time.Minute || sc.SessionTTL != 12*time.Hour || level.String() != "DEBUG" {
		t.Errorf("server settings: %+v, level %v", sc, level)
	}
	want := auth.LDAPConfig{URL: "ldaps://ldap.example.org", Base: "ou=people,dc=example,dc=org", UserAttr: "sAMAccountName",
		UserFilter: "(objectClass=person)", GroupBase: "ou=groups,dc=example,dc=org", GroupAttr: "cn",
		GroupMap: map[string]string{"Lab Members": "lab", "physics": "physics"}, BindDN: "cn=arca,ou=services,dc=example,dc=org",
		BindPasswordFile: "ldap-password", CAFile: "/etc/arca/ldap-ca.pem", Provision: false, Timeout: 5 * time.Second,
		RecheckInterval: 30 * time.Minute}
	if !reflect.DeepEqual(sc.LDAP, want) {
		t.Errorf("ldap = %+v\nwant   %+v", sc.LDAP, want)
	}
	if want := (ConnectionLimits{Max: 1000, PerHost: 50, IdleTimeout: 30 * time.Second, KeepaliveTime: 15 * time.Second,
		KeepaliveTimeout: 5 * time.Second}); sc.Connections != want {
		t.Errorf("connections = %+v\nwant          %+v", sc.Connections, want)
	}
	// What the file leaves out takes the defaults.
	if got := (ConnectionLimits{PerHost: 8}).withDefaults(); got != (ConnectionLimits{Max: DefaultMaxConns, PerHost: 8,
		IdleTimeout: DefaultIdleTimeout, KeepaliveTime: DefaultKeepaliveTime, KeepaliveTimeout: DefaultKeepaliveTimeout}) {
		t.Errorf("defaults: %+v", got)
	}

	c, err = ParseConfig([]byte("jobs:\n  max_run: 12h\n  per_rule: -1\n  select_batch: 500\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc, _ := c.ServerConfig(); sc.Jobs.MaxRun != 12*time.Hour || sc.JobsPerRule != -1 || sc.Jobs.SelectBatch != 500 {
		t.Errorf("jobs: %+v, per rule %d", sc.Jobs, sc.JobsPerRule)
	}

	// Empty is fine, and provisioning is on unless the file says otherwise.
	for _, text := range []string{"", "# nothing\n", "ldap:\n  url: ldap://127.0.0.1:3389\n  base: dc=arca,dc=test\n"} {
		c, err := ParseConfig([]byte(text))
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if sc, _ := c.ServerConfig(); sc.LDAP.URL != "" && !sc.LDAP.Provision {
			t.Errorf("%q: provisioning is off by default", text)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	for name, text := range map[string]string{
		"unknown key":              "adress: 0.0.0.0:1247\n",
		"unknown ldap key":         "ldap:\n  url: ldaps://x\n  base: dc=x\n  bind_password: secret\n",
		"bad addr":                 "addr: 1247\n",
		"bad http":                 "http: 8443\n",
		"bad zone":                 "zone: a/b\n",
		"bad log level":            "log_level: loud\n",
		"negative lease":           "lease: -1m\n",
		"jobs max_run too short":   "jobs:\n  max_run: 10ms\n",
		"jobs per_rule negative":   "jobs:\n  per_rule: -2\n",
		"jobs unknown key":         "jobs:\n  budget: 1h\n",
		"not a duration":           "session_ttl: forever\n",
		"two documents":            "addr: :1247\n---\naddr: :1248\n",
		"not a mapping":            "- a\n- b\n",
		"ldap without url":         "ldap:\n  base: dc=x\n",
		"ldap bad url":             "ldap:\n  url: http://x\n  base: dc=x\n",
		"ldap plain remote":        "ldap:\n  url: ldap://ldap.example.org\n  base: dc=x\n  insecure_plain_loopback: true\n",
		"ldap no base":             "ldap:\n  url: ldaps://x\n",
		"bind dn without file":     "ldap:\n  url: ldaps://x\n  base: dc=x\n  bind_dn: cn=svc,dc=x\n",
		"password file without dn": "ldap:\n  url: ldaps://x\n  base: dc=x\n  bind_password_file: pw\n",
		"group map to a bad name":  "ldap:\n  url: ldaps://x\n  base: dc=x\n  group_map: {lab: \"a b\"}\n",
		"group map to public":      "ldap:\n  url: ldaps://x\n  base: dc=x\n  group_map: {everyone: public}\n",
		"bad filter":               "ldap:\n  url: ldaps://x\n  base: dc=x\n  user_filter: (uid=\n",
		"negative recheck":         "ldap:\n  url: ldaps://x\n  base: dc=x\n  recheck_interval: -1m\n",
		"recheck too often":        "ldap:\n  url: ldaps://x\n  base: dc=x\n  recheck_interval: 1ms\n",
		"tab indentation":          "ldap:\n\turl: ldaps://x\n",
		"too large":                "# " + strings.Repeat("x", maxConfigSize) + "\n",
		"negative max connections": "connections:\n  max: -1\n",
		"negative idle timeout":    "connections:\n  idle_timeout: -1s\n",
		"keepalive too often":      "connections:\n  keepalive_time: 100ms\n",
		"unknown connections key":  "connections:\n  max_conns: 10\n",
	} {
		if _, err := ParseConfig([]byte(text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadConfigRelativePaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ConfigFileName)
	text := "ldap:\n  url: ldaps://x\n  base: dc=x\n  bind_dn: cn=svc,dc=x\n  bind_password_file: pw\n  ca: tls/ldap-ca.pem\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.LDAP.BindPasswordFile != filepath.Join(dir, "pw") || c.LDAP.CA != filepath.Join(dir, "tls/ldap-ca.pem") {
		t.Errorf("paths are not relative to the file: %+v", c.LDAP)
	}
}

// The service account's password file must be private, and not empty.
func TestBindPasswordFile(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	cfg := auth.LDAPConfig{URL: "ldaps://ldap.example.org", Base: "dc=example,dc=org", BindDN: "cn=svc,dc=example,dc=org", BindPasswordFile: pw}
	for _, tc := range []struct {
		content string
		mode    os.FileMode
		ok      bool
	}{
		{"secret\n", 0o600, true},
		{"secret", 0o400, true},
		{"secret\n", 0o640, false},
		{"secret\n", 0o604, false},
		{"\n", 0o600, false},
	} {
		os.Remove(pw)
		if err := os.WriteFile(pw, []byte(tc.content), tc.mode); err != nil {
			t.Fatal(err)
		}
		l, err := cfg.Login()
		if (err == nil) != tc.ok {
			t.Errorf("%q mode %v: %v", tc.content, tc.mode, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error shows the password: %v", err)
		}
		if err == nil && l == nil {
			t.Error("no LDAP login made")
		}
	}
	if l, err := (auth.LDAPConfig{}).Login(); l != nil || err != nil {
		t.Errorf("no URL: %v, %v", l, err)
	}
}

// FuzzParseConfig: any text is accepted or refused with an error, never a
// panic; what is accepted survives a round trip through YAML unchanged and
// makes an LDAP client.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(fullConfig))
	f.Add([]byte("addr: 127.0.0.1:1247\nzone: tempZone\n"))
	f.Add([]byte("ldap:\n  url: ldap://127.0.0.1:3389\n  base: dc=arca,dc=test\n  insecure_plain_loopback: true\n"))
	f.Add([]byte("ldap: {url: 'ldaps://[::1]:636', base: 'cn=a\\,b,dc=x', group_map: {'*': x}}\n"))
	f.Add([]byte("&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("an accepted configuration does not marshal: %v", err)
		}
		again, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("the marshalled configuration is refused: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("round trip changed the configuration:\n%+v %+v\n%+v %+v", c, c.LDAP, again, again.LDAP)
		}
		if c.LDAP != nil {
			l := c.LDAP.config()
			l.BindDN, l.BindPasswordFile, l.CAFile = "", "", "" // no files to read here
			if _, err := l.Login(); err != nil {
				t.Fatalf("an accepted ldap section makes no client: %v", err)
			}
		}
	})
}
