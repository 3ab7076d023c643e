package datachan

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strings"
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
	return &conn{tls: tc, w: NewWriter(tc, bufferSize), r: NewReader(tc, bufferSize), raw: version == Protocol}, nil
}

// alive reports whether an idle connection still works: a read that must
// not wait finds nothing to read, rather than the end the server sends when
// it closes a connection (shutting down, or tired of waiting).
func (c *conn) alive() bool {
	c.tls.SetReadDeadline(time.Unix(1, 0)) // long past: the read does not wait
	defer c.tls.SetReadDeadline(time.Time{})
	var b [1]byte
	_, err := c.tls.Read(b[:])
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
