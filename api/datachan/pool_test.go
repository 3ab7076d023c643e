package datachan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// tlsPair is a server and a client configuration that trust each other,
// both speaking the data channel's versions.
func tlsPair(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, NextProtos: Protocols}
	client = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	return server, client
}

// TestIdleConnections checks what a Pool relies on to hand out only
// connections that work: the probe of an idle connection sees the server's
// close, does not disturb a connection that is open, and a connection idle
// for too long is not handed out.
func TestIdleConnections(t *testing.T) {
	serverConf, clientConf := tlsPair(t)
	lis, err := tls.Listen("tcp", "127.0.0.1:0", serverConf)
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	// The server keeps the first connection and reads a frame from it,
	// closes the second after its handshake, and keeps the third.
	got := make(chan []byte, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		first, err := lis.Accept()
		if err != nil {
			return
		}
		defer func() { <-done; first.Close() }()
		first.(*tls.Conn).Handshake()
		second, err := lis.Accept()
		if err != nil {
			return
		}
		second.(*tls.Conn).Handshake()
		second.Close()
		// A third connection, for the closed pool.
		go func() {
			third, err := lis.Accept()
			if err != nil {
				return
			}
			third.(*tls.Conn).Handshake()
			<-done
			third.Close()
		}()
		_, body, err := NewReader(first, 64).Next()
		if err == nil {
			got <- append([]byte(nil), body...)
		}
		close(got)
	}()
	ctx := context.Background()
	open, err := dialConn(ctx, lis.Addr().String(), clientConf)
	if err != nil {
		t.Fatal(err)
	}
	closed, err := dialConn(ctx, lis.Addr().String(), clientConf)
	if err != nil {
		t.Fatal(err)
	}
	if !open.raw {
		t.Errorf("negotiated %q, want %q", open.tls.ConnectionState().NegotiatedProtocol, Protocol)
	}

	for i := range 2 {
		if !open.alive() {
			t.Fatalf("probe %d: an open connection is taken for closed", i)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for closed.alive() {
		if time.Now().After(deadline) {
			t.Fatal("a connection the server closed is still taken for alive")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// After the probes, the open connection still carries frames.
	if err := open.w.WriteData([]byte("after the probe")); err != nil {
		t.Fatal(err)
	}
	if body := <-got; string(body) != "after the probe" {
		t.Errorf("the server read %q after the probes", body)
	}

	// A pool hands out a fresh idle connection, and not a stale one.
	p := NewPool(lis.Addr().String(), clientConf)
	p.put(open)
	if c := p.take(); c != open {
		t.Errorf("take = %p, want the idle connection %p", c, open)
	}
	p.put(open)
	open.idleSince = time.Now().Add(-MaxIdle - time.Second)
	if c := p.take(); c != nil {
		t.Errorf("take handed out a connection idle for %s", time.Since(c.idleSince).Round(time.Second))
	}

	// A closed pool keeps nothing: a call that ends after Close closes
	// its connection.
	late, err := dialConn(ctx, lis.Addr().String(), clientConf)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	p.put(late)
	if c := p.take(); c != nil {
		t.Error("a closed pool handed out a connection")
	}
	if late.alive() {
		t.Error("a connection put into a closed pool was left open")
	}
}
