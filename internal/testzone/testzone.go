// Package testzone starts real Arca zones inside a test process: the same
// server.Run that "arca server" runs, on a free loopback port, with a data
// directory the test chooses.
package testzone

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/internal/server"
)

// AdminPassword is the password of rods in every zone Start creates: Start
// sets ARCA_ADMIN_PASSWORD to it, as an operator would.
const AdminPassword = "rods-test-password"

// startTimeout bounds a start: a Dgraph catalog on a loaded machine
// (schema, bootstrap, recovery, each a few transactions) has been seen to
// take more than 30 s.
const startTimeout = 2 * time.Minute

// Zone is a running zone.
type Zone struct {
	// Addr is host:port of the zone's gRPC endpoint.
	Addr string
	// Host and Port are Addr's parts, as iinit takes them.
	Host string
	Port string
	// CAFile is the zone CA's certificate, DIR/tls/ca.pem.
	CAFile string
	// DataDir is the zone's data directory.
	DataDir string
	// HTTPAddr is host:port of the HTTPS listener, when the zone was
	// started with one (any cfg.HTTPAddr: StartZone picks a free port).
	HTTPAddr string

	logMu sync.Mutex
	log   bytes.Buffer
	stop  func()
}

// Log returns what the server has logged so far.
func (z *Zone) Log() string {
	z.logMu.Lock()
	defer z.logMu.Unlock()
	return z.log.String()
}

func (z *Zone) Write(p []byte) (int, error) {
	z.logMu.Lock()
	defer z.logMu.Unlock()
	return z.log.Write(p)
}

// Stop shuts the zone down and waits until it has closed its catalog. It
// may be called more than once.
func (z *Zone) Stop() { z.stop() }

// Start serves a zone from dir on 127.0.0.1 and a free port. It returns once
// the zone accepts connections; the zone stops when the test ends, or
// earlier through stop.
func Start(t testing.TB, dir string) (addr, caFile string, stop func()) {
	t.Helper()
	z := StartZone(t, dir, server.ServerConfig{})
	return z.Addr, z.CAFile, z.Stop
}

// StartZone is Start with more of the server's configuration: cfg.DataDir,
// cfg.Addr, cfg.Logger, cfg.Out and cfg.Ready are set by StartZone. The
// server's log is kept in the Zone and, when the test fails, printed.
func StartZone(t testing.TB, dir string, cfg server.ServerConfig) *Zone {
	t.Helper()
	os.Setenv("ARCA_ADMIN_PASSWORD", AdminPassword)
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	z := &Zone{DataDir: abs, CAFile: filepath.Join(abs, "tls", "ca.pem")}
	cfg.DataDir = abs
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(z, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Out = z
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 5 * time.Second
	}
	ready := make(chan net.Addr, 1)
	cfg.Ready = func(a net.Addr) { ready <- a }
	if cfg.HTTPAddr != "" {
		cfg.HTTPAddr = "127.0.0.1:0"
		cfg.HTTPReady = func(a net.Addr) { z.HTTPAddr = a.String() }
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg) }()
	var once sync.Once
	var runErr error
	z.stop = func() {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
	}
	select {
	case a := <-ready:
		z.Addr = a.String()
	case err := <-done:
		cancel()
		t.Fatalf("zone in %s did not start: %v\nserver log:\n%s", abs, err, z.Log())
	case <-time.After(startTimeout):
		cancel()
		t.Fatalf("zone in %s did not start within %v\nserver log:\n%s", abs, startTimeout, z.Log())
	}
	z.Host, z.Port, _ = net.SplitHostPort(z.Addr)
	t.Cleanup(func() {
		z.Stop()
		if runErr != nil {
			t.Errorf("zone in %s: %v", abs, runErr)
		}
		if t.Failed() {
			t.Logf("server log of the zone in %s:\n%s", abs, z.Log())
		}
	})
	return z
}

// String describes the zone for messages.
func (z *Zone) String() string { return fmt.Sprintf("zone at %s (data %s)", z.Addr, z.DataDir) }
