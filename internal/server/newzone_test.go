package server_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/drivers"
)

// startOnce runs a zone on dir until it serves, then stops it; it returns
// Run's error if Run ends before serving.
func startOnce(t *testing.T, cfg server.ServerConfig) error {
	t.Helper()
	t.Setenv("ARCA_ADMIN_PASSWORD", "pw-of-rods")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	cfg.Addr, cfg.Out, cfg.Logger = "127.0.0.1:0", io.Discard, discardLogger()
	cfg.Ready = func(a net.Addr) { ready <- a }
	go func() { done <- server.Run(ctx, cfg) }()
	select {
	case <-ready:
		cancel()
		return <-done
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("the zone neither served nor failed in a minute")
	}
	return nil
}

// TestNoNewZoneOverAnOldOne checks that a data directory that lost the file
// naming its zone, or its catalog, is refused rather than served as a new,
// empty zone whose fsck would take the old zone's files for orphans.
func TestNoNewZoneOverAnOldOne(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lose  func(t *testing.T, dir string)
		want  string
		again server.ServerConfig
	}{
		{
			name: "zone file lost",
			lose: func(t *testing.T, dir string) { mustRemove(t, filepath.Join(dir, "zone")) },
			want: "the catalog is zone labZone's, not tempZone's: start with --zone labZone",
		},
		{
			name: "catalog lost",
			lose: func(t *testing.T, dir string) {
				for _, f := range []string{"catalog.db", "catalog.db-wal", "catalog.db-shm"} {
					os.Remove(filepath.Join(dir, f))
				}
			},
			want:  "holds files, but the catalog has no zone",
			again: server.ServerConfig{Zone: "labZone"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "zone")
			if err := startOnce(t, server.ServerConfig{DataDir: dir, Zone: "labZone"}); err != nil {
				t.Fatal(err)
			}
			// A file of the old zone in its vault.
			kept := filepath.Join(dir, "vault", "home", "rods", "data.txt.0123456789ab")
			if err := os.MkdirAll(filepath.Dir(kept), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(kept, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
			tc.lose(t, dir)
			tc.again.DataDir = dir
			err := startOnce(t, tc.again)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("restart: %v; want an error saying %q", err, tc.want)
			}
			if _, err := os.Stat(kept); err != nil {
				t.Errorf("the old zone's file: %v", err)
			}
		})
	}
}

// TestMissingVaultIsNotMadeAgain checks that a vault that has gone (an
// unmounted file system, a moved data directory) is not made again at
// start: files would land below the mount point, where nobody looks.
func TestMissingVaultIsNotMadeAgain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "zone")
	if err := startOnce(t, server.ServerConfig{DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	vault := filepath.Join(dir, "vault")
	if err := os.Rename(vault, vault+".unmounted"); err != nil {
		t.Fatal(err)
	}
	if err := startOnce(t, server.ServerConfig{DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(vault); !os.IsNotExist(err) {
		t.Errorf("the vault was made again at start: %v", err)
	}
	// Using it fails as storage that is unavailable, not as a data object
	// that is not found (exit 3 would tell the user the wrong thing).
	_, err := drivers.Default().Open(catalog.Resource{Name: "demoResc", Type: "posix", Location: vault})
	if !errors.Is(err, resources.ErrUnavailable) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, resources.ErrNotFound) {
		t.Errorf("Opening a vault that has gone: %v; want ErrUnavailable alone", err)
	}
}

// TestServerLimits checks the values a server refuses to start with.
func TestServerLimits(t *testing.T) {
	for _, tc := range []struct {
		cfg  server.ServerConfig
		want string
	}{
		{server.ServerConfig{Lease: -5 * time.Second}, "lease -5s: want at least 1s"},
		{server.ServerConfig{Lease: 3 * time.Nanosecond}, "lease 3ns: want at least 1s"},
		{server.ServerConfig{SessionTTL: -time.Hour}, "session TTL -1h0m0s: cannot be negative"},
		{server.ServerConfig{Connections: server.ConnectionLimits{PerHost: -1}}, "connection limits and timeouts cannot be negative"},
		{server.ServerConfig{Connections: server.ConnectionLimits{KeepaliveTime: time.Millisecond}}, "keepalive time 1ms: want at least 1s"},
	} {
		tc.cfg.DataDir = filepath.Join(t.TempDir(), "zone")
		err := startOnce(t, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want %q", tc.cfg, err, tc.want)
		}
	}
}

func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// TestPortTakenMakesNothing checks that a server that cannot listen leaves
// no new zone behind: no catalog, no generated administrator password.
func TestPortTakenMakesNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := filepath.Join(t.TempDir(), "zone")
	t.Setenv("ARCA_ADMIN_PASSWORD", "")
	err = server.Run(context.Background(), server.ServerConfig{DataDir: dir, Addr: taken.Addr().String(), Out: io.Discard, Logger: discardLogger()})
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("Run on a taken port: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the data directory was made: %v", err)
	}
}
