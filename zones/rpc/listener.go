package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/arca-data/arca/api/datachan"
)

// HandshakeTimeout bounds a TLS handshake, and the HTTP/2 preface that
// follows it, so that silent peers do not pile up.
const HandshakeTimeout = 10 * time.Second

// ConnLimits bound the connections a port keeps open at once, counted from
// the moment they are accepted (TLS handshakes included) until they close.
// A connection over a limit is closed at once, before its handshake. Zero
// is no limit.
type ConnLimits struct {
	Max     int // all clients together
	PerHost int // from one client IP address
}

// refusalLogEvery spaces the log lines about refused connections: a flood
// of them must not become a flood of log lines.
const refusalLogEvery = 10 * time.Second

// portMux serves gRPC and the data channel on one TLS port. It does the TLS
// handshake itself and routes by the negotiated ALPN protocol: "h2" goes to
// the gRPC server through GRPCListener, a version of the data channel
// (datachan.Protocols) to serveData.
type portMux struct {
	lis      net.Listener
	conf     *tls.Config
	data     func(context.Context, *tls.Conn, callTracker)
	grpc     chan net.Conn
	closed   chan struct{}
	stopOnce sync.Once
	limits   ConnLimits
	log      *slog.Logger

	mu    sync.Mutex
	conns map[*tls.Conn]bool // data-channel connections: true while a call runs
	calls sync.WaitGroup     // the calls running

	countMu    sync.Mutex
	open       int                  // connections accepted and not closed
	perHost    map[string]int       // the same by client IP address
	refused    map[string]int       // by reason, since the last log line about it
	lastRefLog map[string]time.Time // by reason
}

// NewPortMux serves lis with conf; data serves the data-channel
// connections. log hears of connections refused by limits.
func NewPortMux(lis net.Listener, conf *tls.Config, data func(context.Context, *tls.Conn, callTracker), limits ConnLimits, log *slog.Logger) *portMux {
	conf = conf.Clone()
	conf.NextProtos = append([]string{"h2"}, datachan.Protocols...)
	if log == nil {
		log = slog.Default()
	}
	return &portMux{
		lis: lis, conf: conf, data: data, limits: limits, log: log,
		grpc: make(chan net.Conn), closed: make(chan struct{}),
		conns: map[*tls.Conn]bool{}, perHost: map[string]int{},
		refused: map[string]int{}, lastRefLog: map[string]time.Time{},
	}
}

// Serve accepts connections until Close.
func (m *portMux) Serve(ctx context.Context) error {
	for {
		c, err := m.lis.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of file descriptors: connections that close give
				// them back. Serving stops for nobody.
				m.log.Warn("cannot accept a connection: out of file descriptors; lower connections.max or raise the limit (ulimit -n)", "err", err)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return err
		}
		release, ok := m.admit(c)
		if !ok {
			c.Close()
			continue
		}
		go m.route(ctx, &countedConn{Conn: tls.Server(c, m.conf), release: release})
	}
}

// admit counts c against the limits, or refuses it; release uncounts it.
func (m *portMux) admit(c net.Conn) (release func(), ok bool) {
	host := c.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	m.countMu.Lock()
	defer m.countMu.Unlock()
	var why string
	var limit int
	switch {
	case m.limits.Max > 0 && m.open >= m.limits.Max:
		why, limit = "too many connections", m.limits.Max
	case m.limits.PerHost > 0 && m.perHost[host] >= m.limits.PerHost:
		why, limit = "too many connections from one host", m.limits.PerHost
	}
	if why != "" {
		m.refused[why]++
		if now := time.Now(); now.Sub(m.lastRefLog[why]) >= refusalLogEvery {
			m.log.Warn("connection refused: "+why, "host", host, "limit", limit, "open", m.open,
				"open_from_host", m.perHost[host], "refused", m.refused[why])
			m.refused[why], m.lastRefLog[why] = 0, now
		}
		return nil, false
	}
	m.open++
	m.perHost[host]++
	return func() {
		m.countMu.Lock()
		defer m.countMu.Unlock()
		m.open--
		if m.perHost[host]--; m.perHost[host] <= 0 {
			delete(m.perHost, host)
		}
	}, true
}

// countedConn is an accepted connection that counts against the limits
// until it is closed, by whoever closes it.
type countedConn struct {
	*tls.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func (m *portMux) route(ctx context.Context, cc *countedConn) {
	tc := cc.Conn
	hctx, cancel := context.WithTimeout(ctx, HandshakeTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		cc.Close()
		return
	}
	if slices.Contains(datachan.Protocols, tc.ConnectionState().NegotiatedProtocol) {
		defer cc.Close()
		if !m.add(tc) {
			return
		}
		defer m.remove(tc)
		m.data(ctx, tc, m)
		return
	}
	select {
	case m.grpc <- cc:
	case <-m.closed:
		cc.Close()
	}
}

// isClosed reports whether Close was called.
func (m *portMux) isClosed() bool {
	select {
	case <-m.closed:
		return true
	default:
		return false
	}
}

// add registers an idle data-channel connection; false once closing.
func (m *portMux) add(tc *tls.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.isClosed() {
		return false
	}
	m.conns[tc] = false
	return true
}

func (m *portMux) remove(tc *tls.Conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.conns, tc)
}

// begin marks the start of a call on tc; false once closing: the server
// takes no new call.
func (m *portMux) begin(tc *tls.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.isClosed() {
		return false
	}
	m.conns[tc] = true
	m.calls.Add(1)
	return true
}

// end marks the end of the call on tc. Once closing, the connection, idle
// now, is closed.
func (m *portMux) end(tc *tls.Conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.conns[tc] = false
	m.calls.Done()
	if m.isClosed() {
		tc.Close()
	}
}

// Close stops accepting and closes the idle data-channel connections;
// running calls go on (see Drain).
func (m *portMux) Close() error {
	m.stopOnce.Do(func() {
		m.mu.Lock()
		close(m.closed)
		for tc, busy := range m.conns {
			if !busy {
				tc.Close()
			}
		}
		m.mu.Unlock()
		m.lis.Close()
	})
	return nil
}

// Drain waits for the running data-channel calls until ctx ends, then
// closes their connections, which fails them and makes them clean up.
func (m *portMux) Drain(ctx context.Context) {
	done := make(chan struct{})
	go func() { m.calls.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	m.mu.Lock()
	for tc := range m.conns {
		tc.Close()
	}
	m.mu.Unlock()
	<-done
}

// GRPCListener is the listener the gRPC server serves: the connections that
// negotiated HTTP/2, already through TLS.
func (m *portMux) GRPCListener() net.Listener { return grpcListener{m} }

type grpcListener struct{ m *portMux }

func (l grpcListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.m.grpc:
		return c, nil
	case <-l.m.closed:
		return nil, net.ErrClosed
	}
}

func (l grpcListener) Close() error   { return l.m.Close() }
func (l grpcListener) Addr() net.Addr { return l.m.lis.Addr() }

// HandshakenTLS is the gRPC server's transport security for connections the
// portMux has already taken through TLS: it only reports what was negotiated.
type HandshakenTLS struct{}

func (HandshakenTLS) ServerHandshake(c net.Conn) (net.Conn, credentials.AuthInfo, error) {
	tc, ok := c.(interface{ ConnectionState() tls.ConnectionState })
	if !ok {
		return nil, nil, errors.New("connection did not come through TLS")
	}
	return c, tlsInfo(tc), nil
}

func (HandshakenTLS) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("HandshakenTLS is for servers")
}

func (HandshakenTLS) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls"}
}

func (h HandshakenTLS) Clone() credentials.TransportCredentials { return h }
func (HandshakenTLS) OverrideServerName(string) error           { return nil }
