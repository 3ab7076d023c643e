package datachan

import (
	"context"
	"crypto/tls"
	"slices"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// conn is a data-channel connection with its framing, which a Pool keeps
// between calls.
type conn struct {
	tls       *tls.Conn
	w         *Writer
	r         *Reader
	raw       bool // version 2: data frames, and one call after another
	idleSince time.Time
	// free holds the buffers of received frames that calls are done with,
	// for the next frames, of this call or the next on the connection.
	free chan []byte
}

func dialConn(ctx context.Context, addr string, tlsConf *tls.Config) (*conn, error) {
	conf := tlsConf.Clone()
	if len(conf.NextProtos) == 0 {
		conf.NextProtos = Protocols
	}
	d := tls.Dialer{Config: conf}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if strings.Contains(err.Error(), "no application protocol") {
			return nil, ErrUnsupported
		}
		return nil, status.Errorf(codes.Unavailable, "data channel to %s: %v", addr, err)
	}
	tc := raw.(*tls.Conn)
	version := tc.ConnectionState().NegotiatedProtocol
	if !slices.Contains(Protocols, version) {
		tc.Close()
		return nil, ErrUnsupported
	}
	return &conn{tls: tc, w: NewWriter(tc, bufferSize), r: NewReader(tc, bufferSize), raw: version == Protocol,
		free: make(chan []byte, 8)}, nil
}

// alive reports whether an idle connection still works: the server has
// sent nothing on it, neither the end of the connection (shutting down, or
// tired of waiting) nor anything else, which at a call boundary it never
// does.
func (c *conn) alive() bool {
	tcp, ok := c.tls.NetConn().(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		return false
	}
	quiet := false
	if err := raw.Read(func(fd uintptr) bool {
		quiet = nothingToRead(fd)
		return true // done, whatever the answer: never wait
	}); err != nil {
		return false
	}
	return quiet
}
