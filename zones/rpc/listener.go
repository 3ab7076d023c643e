package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/arca-data/arca/api/datachan"
)

// handshakeTimeout bounds a TLS handshake, so that silent peers do not pile up.
const handshakeTimeout = 10 * time.Second

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

	mu    sync.Mutex
	conns map[*tls.Conn]bool // data-channel connections: true while a call runs
	calls sync.WaitGroup     // the calls running
}

func NewPortMux(lis net.Listener, conf *tls.Config, data func(context.Context, *tls.Conn, callTracker)) *portMux {
	conf = conf.Clone()
	conf.NextProtos = append([]string{"h2"}, datachan.Protocols...)
	return &portMux{
		lis: lis, conf: conf, data: data,
		grpc: make(chan net.Conn), closed: make(chan struct{}),
		conns: map[*tls.Conn]bool{},
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
			return err
		}
		go m.route(ctx, c)
	}
}

func (m *portMux) route(ctx context.Context, c net.Conn) {
	tc := tls.Server(c, m.conf)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		tc.Close()
		return
	}
	if slices.Contains(datachan.Protocols, tc.ConnectionState().NegotiatedProtocol) {
		if !m.add(tc) {
			tc.Close()
			return
		}
		defer m.remove(tc)
		m.data(ctx, tc, m)
		return
	}
	select {
	case m.grpc <- tc:
	case <-m.closed:
		tc.Close()
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
	tc, ok := c.(*tls.Conn)
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
