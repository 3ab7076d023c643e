package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testzone"
)

// TestScriptTwoServers runs testdata/twoservers/*.txtar against two
// servers of one zone that share one catalog: an SQLite file both open,
// and (with ARCA_TEST_DGRAPH) a Dgraph catalog. Besides the variables of
// TestScript, which name server A, scripts get server B's:
//
//	ARCA_PORT_B, ARCA_CA_B, ARCA_DATA_B
func TestScriptTwoServers(t *testing.T) {
	for _, backend := range []string{"sqlite", "dgraph"} {
		t.Run(backend, func(t *testing.T) {
			p := scriptParams("testdata/twoservers", server.ServerConfig{}, nil)
			p.Setup = func(e *testscript.Env) error {
				tb, ok := e.T().(testing.TB)
				if !ok {
					return fmt.Errorf("testscript gave a %T, not a testing.TB", e.T())
				}
				url := "sqlite://" + filepath.Join(e.WorkDir, "catalog.db")
				if backend == "dgraph" {
					url = fmt.Sprintf("dgraph://%s?prefix=two%x", dgraphAddr(t), time.Now().UnixNano()&0xffffffffff)
					// The schema first, once: on a loaded machine a new
					// catalog's schema takes Dgraph longer than a server
					// is given to start.
					cat, err := server.OpenCatalog(context.Background(), url, e.WorkDir)
					if err != nil {
						return err
					}
					cat.Close()
				}
				a := testzone.StartZone(tb, filepath.Join(e.WorkDir, "zoneA"), server.ServerConfig{Catalog: url})
				e.Defer(a.Stop)
				b := testzone.StartZone(tb, filepath.Join(e.WorkDir, "zoneB"), server.ServerConfig{Catalog: url})
				e.Defer(b.Stop)
				home := filepath.Join(e.WorkDir, "home")
				if err := os.MkdirAll(home, 0o755); err != nil {
					return err
				}
				e.Setenv("HOME", home)
				e.Setenv("ARCA_CONFIG_DIR", filepath.Join(e.WorkDir, ".arca"))
				e.Setenv("ARCA_HOST", a.Host)
				e.Setenv("ARCA_PORT", a.Port)
				e.Setenv("ARCA_CA", a.CAFile)
				e.Setenv("ARCA_DATA", a.DataDir)
				e.Setenv("ARCA_PORT_B", b.Port)
				e.Setenv("ARCA_CA_B", b.CAFile)
				e.Setenv("ARCA_DATA_B", b.DataDir)
				e.Setenv("ARCA_ADMIN_PASSWORD", testzone.AdminPassword)
				return nil
			}
			testscript.Run(t, p)
		})
	}
}
