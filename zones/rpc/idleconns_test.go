package rpc_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testzone"
)

// silentH2 opens what the attacker opened: a connection that
// finishes TLS, sends the HTTP/2 preface and an empty SETTINGS frame, then
// says nothing more. It reads nothing either.
func silentH2(t *testing.T, addr string, conf *tls.Config, from string) (*tls.Conn, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	conf = conf.Clone()
	conf.NextProtos = []string{"h2"}
	c, err := tls.DialWithDialer(d, "tcp", addr, conf)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		c.Close()
		return nil, err
	}
	if err := http2.NewFramer(c, c).WriteSettings(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func zoneTLS(t *testing.T, z *testzone.Zone) *tls.Config {
	t.Helper()
	pemBytes, err := os.ReadFile(z.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	return &tls.Config{RootCAs: pool, ServerName: z.Host, MinVersion: tls.VersionTLS12}
}

// inUse is the memory the process holds after a collection: heap and
// goroutine stacks. The server runs in this process.
func inUse() int64 {
	var m runtime.MemStats
	for range 2 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}

// closedWithin reports whether the server closes c within d: reading
// returns an error other than our own deadline.
func closedWithin(c *tls.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue // SETTINGS, PING, GOAWAY: the server may say goodbye first
		}
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
}

// TestIdleConnectionsBounded is issue 23's item 1: silent HTTP/2
// connections, without any login, must cost the server little memory each,
// be closed once idle, and give their memory back.
func TestIdleConnectionsBounded(t *testing.T) {
	const conns = 200
	z := testzone.StartZone(t, t.TempDir(), server.ServerConfig{Connections: server.ConnectionLimits{
		IdleTimeout: 2 * time.Second, KeepaliveTime: time.Second, KeepaliveTimeout: time.Second,
	}})
	conf := zoneTLS(t, z)
	// Warm up: pools, TLS session state, the first transport.
	for range 3 {
		c, err := silentH2(t, z.Addr, conf, "")
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	before := inUse()
	open := make([]*tls.Conn, 0, conns)
	for range conns {
		c, err := silentH2(t, z.Addr, conf, "")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	// The server reads the prefaces and answers; on a loaded machine it
	// may take a while: the least of a few samples is what they hold.
	held := int64(math.MaxInt64)
	for range 4 {
		time.Sleep(300 * time.Millisecond)
		held = min(held, inUse())
	}
	perConn := (held - before) / conns
	t.Logf("%d silent connections: %d KiB in use before, %d KiB with them: %d KiB each (client side included)",
		conns, before>>10, held>>10, perConn>>10)
	// The server's transport, TLS state and goroutines, and this test's
	// client side: about 70 KiB. Before the fix, 1 MiB more each: gRPC's
	// read buffer.
	if perConn > 160<<10 {
		t.Errorf("a silent connection holds %d KiB; want at most 160 KiB", perConn>>10)
	}

	// The idle timeout (or, for a peer that does not answer pings, the
	// keepalive) closes every one of them.
	deadline := 15 * time.Second
	start := time.Now()
	for i, c := range open {
		if !closedWithin(c, max(deadline-time.Since(start), time.Millisecond)) {
			t.Fatalf("connection %d still open %v after it went silent; the idle timeout is 2s", i, time.Since(start))
		}
	}
	for _, c := range open {
		c.Close()
	}
	open = nil
	time.Sleep(500 * time.Millisecond)
	after := inUse()
	t.Logf("after the server closed them: %d KiB in use", after>>10)
	if after-before > 4<<20 {
		t.Errorf("%d KiB still held after the connections were closed (%d KiB before them)", after>>10, before>>10)
	}
}

// TestIdleTimeoutClosesAnsweringClients: a client that answers pings
// (a real gRPC client) but makes no call is closed too, after the idle
// timeout; it reconnects for its next call.
func TestIdleTimeoutClosesAnsweringClients(t *testing.T) {
	z := testzone.StartZone(t, t.TempDir(), server.ServerConfig{Connections: server.ConnectionLimits{
		IdleTimeout: 2 * time.Second, KeepaliveTime: time.Second, KeepaliveTimeout: time.Second,
	}})
	conn, err := grpc.NewClient(z.Addr, grpc.WithTransportCredentials(credentials.NewTLS(zoneTLS(t, z))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := arcapb.NewAuthClient(conn).Login(ctx, &arcapb.LoginRequest{User: "rods", Password: testzone.AdminPassword}); err != nil {
		t.Fatal(err)
	}
	if s := conn.GetState(); s != connectivity.Ready {
		t.Fatalf("after a call the connection is %v", s)
	}
	start := time.Now()
	wait, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	if !conn.WaitForStateChange(wait, connectivity.Ready) {
		t.Fatalf("the server kept an idle connection for %v; the idle timeout is 2s", time.Since(start))
	}
	t.Logf("closed after %v idle", time.Since(start))
	// The client's next call connects again.
	if _, err := arcapb.NewAuthClient(conn).Login(ctx, &arcapb.LoginRequest{User: "rods", Password: testzone.AdminPassword}); err != nil {
		t.Fatal(err)
	}
}

// TestConnectionLimits: beyond the limit per client host, and the limit of
// all connections, a connection is closed before its TLS handshake, and
// logged; a connection that closes makes room.
func TestConnectionLimits(t *testing.T) {
	z := testzone.StartZone(t, t.TempDir(), server.ServerConfig{Connections: server.ConnectionLimits{Max: 6, PerHost: 4}})
	conf := zoneTLS(t, z)
	var open []*tls.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	dial := func(from string, want bool) {
		t.Helper()
		c, err := silentH2(t, z.Addr, conf, from)
		if err == nil {
			// A refused connection may fail only when it reads.
			if !want && closedWithin(c, 2*time.Second) {
				err = errors.New("closed")
			} else {
				open = append(open, c)
			}
		}
		if (err == nil) != want {
			t.Fatalf("connection %d from %s: %v, want success %v", len(open)+1, from, err, want)
		}
	}
	for range 4 {
		dial("127.0.0.1", true)
	}
	dial("127.0.0.1", false) // the fifth from one host
	dial("127.0.0.2", true)
	dial("127.0.0.2", true)
	dial("127.0.0.2", false) // the seventh in all
	for _, want := range []string{`msg="connection refused: too many connections from one host" host=127.0.0.1 limit=4`,
		`msg="connection refused: too many connections" host=127.0.0.2 limit=6`} {
		if !strings.Contains(z.Log(), want) {
			t.Errorf("not logged: %s", want)
		}
	}
	// One closes: its host may connect again.
	open[0].Close()
	open = open[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := silentH2(t, z.Addr, conf, "127.0.0.1")
		if err == nil && !closedWithin(c, 200*time.Millisecond) {
			open = append(open, c)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room after a connection closed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
