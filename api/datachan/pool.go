package datachan

import (
	"context"
	"crypto/tls"
	"sync"
	"time"
)

// Pool keeps the data-channel connections to one server between calls.
// Version 2 runs one call after another on a connection, so that a tree of
// files pays for a TLS handshake per concurrent transfer, not per file. It
// is safe for concurrent use.
type Pool struct {
	addr    string
	tlsConf *tls.Config

	mu     sync.Mutex
	idle   []*conn // most recently used last
	closed bool
}

// MaxIdle is how long a Pool keeps an unused connection: well below the
// time a server waits for the next call (a minute for Arca's), so that a
// pooled connection is not one the server is closing.
const MaxIdle = 20 * time.Second

// NewPool returns a pool of connections to addr.
func NewPool(addr string, tlsConf *tls.Config) *Pool {
	return &Pool{addr: addr, tlsConf: tlsConf}
}

// Call starts the call method with md as its metadata, on an idle
// connection if there is one and on a new one otherwise. It returns
// ErrUnsupported when the server does not negotiate the data channel.
func (p *Pool) Call(ctx context.Context, method string, md map[string]string) (*Stream, error) {
	if c := p.take(); c != nil {
		if s, err := start(ctx, c, p, method, md); err == nil {
			return s, nil
		}
		// The server closed it while it was idle; a new one will do.
	}
	c, err := dialConn(ctx, p.addr, p.tlsConf)
	if err != nil {
		return nil, err
	}
	return start(ctx, c, p, method, md)
}

// take returns the most recently used idle connection that is still fresh,
// closing those that are not.
func (p *Pool) take() *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if time.Since(c.idleSince) < MaxIdle && c.alive() {
			return c
		}
		c.tls.Close()
	}
	return nil
}

func (p *Pool) put(c *conn) {
	c.idleSince = time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.tls.Close()
		return
	}
	p.idle = append(p.idle, c)
}

// Close closes the idle connections; those in a call close when it ends.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.idle {
		c.tls.Close()
	}
	p.idle = nil
}
