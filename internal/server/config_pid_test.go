package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigPIDAndRAiD(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ConfigFileName)
	os.WriteFile(path, []byte(`pid:
  prefix: 21.T12995
  url: https://pid.example.org
  handle_rest:
    url: https://handle.example.org:8000
    user: "300:21.T12995/arca"
    password_file: handle-password
    ca: handle-ca.pem
raid:
  prefix: 10.82841
  owner: https://ror.org/038sjwq14
  service_point: 20000000
`), 0o600)
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := c.ServerConfig()
	if sc.PID.Prefix != "21.T12995" || sc.PID.URL != "https://pid.example.org" ||
		sc.PID.HandleREST.PasswordFile != filepath.Join(dir, "handle-password") || sc.PID.HandleREST.CAFile != filepath.Join(dir, "handle-ca.pem") ||
		sc.RAiD.Prefix != "10.82841" || sc.RAiD.Owner != "https://ror.org/038sjwq14" || sc.RAiD.ServicePoint != 20000000 {
		t.Errorf("read as %+v %+v", sc.PID, sc.RAiD)
	}
	for conf, want := range map[string]string{
		"pid: {prefix: '21..T1'}":                      "pid: ",
		"pid: {prefix: 21.T1, handle_rest: {user: x}}": "url is missing",
		"raid: {prefix: 10.1, owner: 038sjwq15}":       "invalid ROR id",
		"raid: {prefix: 'a b', owner: 038sjwq14}":      "RAiD prefix",
		"pid: {prefix: 21.T1, http: 127.0.0.1:8443}":   "not found",
	} {
		if _, err := ParseConfig([]byte(conf)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", conf, err, want)
		}
	}
}
