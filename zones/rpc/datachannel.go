package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/api/datachan"
)

// The data channel (api/arca/v1/datachannel.proto) carries Transfer calls
// over plain TLS. It is only a transport: a call is authenticated by the same
// authenticate as gRPC's interceptors and runs the same handler, so that
// authorization, rules, the put protocol and errors cannot differ.

// Limits that keep an idle or hostile peer from holding a connection.
const (
	dataCallTimeout = 30 * time.Second // to send the DataCall after the handshake
	dataIdleTimeout = time.Minute      // to send the next call (datachan.MaxIdle is less)
	dataDrainTime   = 5 * time.Second  // reading what a failed call's client still sends
	// dataBuffer is the read and the write buffer of a connection whose
	// caller is authenticated; until then, callBuffer: a connection that
	// nobody logs in on costs little (issue 23).
	dataBuffer = 256 << 10
	callBuffer = 4 << 10
)

// callTracker is told when a call starts and ends on a data-channel
// connection, so that a shutdown waits for the calls running but not for
// connections waiting for their next call.
type callTracker interface {
	begin(*tls.Conn) bool // false: the server is shutting down
	end(*tls.Conn)
}

// serveData runs the calls of a data-channel connection and closes it:
// one call on version 1, one after another on version 2.
func (s *Service) ServeData(ctx context.Context, conn *tls.Conn, calls callTracker) {
	defer conn.Close()
	fr := datachan.NewReader(conn, callBuffer)
	fw := datachan.NewWriter(conn, callBuffer)
	v2 := conn.ConnectionState().NegotiatedProtocol == datachan.Protocol
	wait := dataCallTimeout
	for {
		conn.SetReadDeadline(time.Now().Add(wait))
		fr.Limit(datachan.MaxCallFrame) // the caller is not known yet
		kind, body, err := fr.Next()
		if err != nil {
			return // nothing was asked; nobody to answer
		}
		if !calls.begin(conn) {
			return
		}
		conn.SetReadDeadline(time.Time{})
		fr.Limit(datachan.MaxFrame)
		again := s.serveCall(ctx, conn, kind, body, &dataStream{r: fr, w: fw, raw: v2})
		calls.end(conn)
		if !again || !v2 {
			return
		}
		wait = dataIdleTimeout
	}
}

// serveCall runs one call whose DataCall frame is kind and body, and
// answers with its end. It reports whether the connection is at a call
// boundary: the call succeeded and the client has closed its side, so the
// next frame is the next call's.
func (s *Service) serveCall(ctx context.Context, conn *tls.Conn, kind byte, body []byte, ds *dataStream) bool {
	var err error
	var call arcapb.DataCall
	if kind != datachan.KindMessage {
		err = status.Error(codes.InvalidArgument, "data channel: a call starts with a DataCall")
	} else if uerr := proto.Unmarshal(body, &call); uerr != nil {
		err = status.Errorf(codes.InvalidArgument, "data channel: bad DataCall: %v", uerr)
	} else {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ctx = metadata.NewIncomingContext(ctx, metadata.New(call.Metadata))
		ctx = peer.NewContext(ctx, &peer.Peer{Addr: conn.RemoteAddr(), LocalAddr: conn.LocalAddr(), AuthInfo: tlsInfo(conn)})
		ds.ctx = ctx
		err = s.dataCall(ctx, call.Method, ds)
	}

	st, eerr := datachan.EncodeStatus(err)
	if eerr != nil {
		st, _ = datachan.EncodeStatus(status.Error(codes.Internal, eerr.Error()))
	}
	if werr := ds.w.Write(datachan.KindEnd, &arcapb.DataEnd{Status: st}); werr != nil {
		return false
	}
	if err == nil {
		return ds.clientDone || closedSend(conn, ds.r)
	}
	// A failed call's client may still be sending; reading it for a while lets
	// the client read the reason instead of a reset connection.
	conn.SetReadDeadline(time.Now().Add(dataDrainTime))
	io.Copy(io.Discard, conn)
	return false
}

// closedSend reads the client's CloseSend after a call that did not need it
// (a put ends with its trailer); it reports whether it came, which puts the
// connection at a call boundary.
func closedSend(conn *tls.Conn, fr *datachan.Reader) bool {
	conn.SetReadDeadline(time.Now().Add(dataDrainTime))
	defer conn.SetReadDeadline(time.Time{})
	kind, _, err := fr.Next()
	return err == nil && kind == datachan.KindCloseSend
}

// dataCall authenticates a call and runs its handler; the error is a status.
func (s *Service) dataCall(ctx context.Context, method string, ds *dataStream) error {
	ctx, err := s.authenticate(ctx, method)
	if err != nil {
		return err
	}
	ds.ctx = ctx
	switch method {
	case arcapb.Transfer_Put_FullMethodName:
		ds.grow()
		return toStatus(s.Put(&grpc.GenericServerStream[arcapb.PutRequest, arcapb.Entry]{ServerStream: ds}))
	case arcapb.Transfer_Get_FullMethodName:
		ds.grow()
		var req arcapb.GetRequest
		if err := ds.RecvMsg(&req); err != nil {
			return status.Errorf(codes.InvalidArgument, "data channel: read the get request: %v", err)
		}
		// Get takes one request; reading the client's CloseSend also keeps
		// unread bytes from turning our close into a reset that the client
		// would see before the data.
		if err := ds.RecvMsg(&arcapb.GetRequest{}); err != io.EOF {
			return status.Error(codes.InvalidArgument, "data channel: get takes one request")
		}
		return toStatus(s.Get(&req, &grpc.GenericServerStream[arcapb.GetRequest, arcapb.GetResponse]{ServerStream: ds}))
	default:
		return status.Errorf(codes.Unimplemented, "data channel: method %q is not served here", method)
	}
}

func tlsInfo(conn interface{ ConnectionState() tls.ConnectionState }) credentials.TLSInfo {
	return credentials.TLSInfo{
		State:          conn.ConnectionState(),
		CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity},
	}
}

// dataStream is the server side of a data-channel call as a grpc.ServerStream.
type dataStream struct {
	ctx        context.Context
	r          *datachan.Reader
	w          *datachan.Writer
	raw        bool // the client speaks datachan.Protocol: data goes in KindData frames
	clientDone bool
}

var _ grpc.ServerStream = (*dataStream)(nil)

// grow gives an authenticated call the buffers of a transfer.
func (d *dataStream) grow() {
	d.r.Grow(dataBuffer)
	d.w.Grow(dataBuffer)
}

func (d *dataStream) Context() context.Context     { return d.ctx }
func (d *dataStream) SetHeader(metadata.MD) error  { return nil }
func (d *dataStream) SendHeader(metadata.MD) error { return nil }
func (d *dataStream) SetTrailer(metadata.MD)       {}

func (d *dataStream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return fmt.Errorf("data channel: %T is not a protobuf message", m)
	}
	if err := d.w.SendMsg(msg, d.raw); err != nil {
		return status.Errorf(codes.Unavailable, "data channel: send: %v", err)
	}
	return nil
}

// RecvMsg returns io.EOF after the client's CloseSend, like gRPC. The data
// of a KindData frame is not copied: it stays valid until the second RecvMsg
// after this one (see datachan.Reader.Next), which is what putBody needs.
func (d *dataStream) RecvMsg(m any) error {
	if d.clientDone {
		return io.EOF
	}
	kind, body, err := d.r.Next()
	if err != nil {
		if errors.Is(err, datachan.ErrFrameTooLarge) {
			return status.Error(codes.ResourceExhausted, err.Error())
		}
		return status.Errorf(codes.Canceled, "data channel: the client went away: %v", err)
	}
	switch kind {
	case datachan.KindCloseSend:
		d.clientDone = true
		return io.EOF
	default:
		if err := datachan.DecodeMsg(kind, body, m); err != nil {
			return status.Errorf(codes.InvalidArgument, "data channel: %v", err)
		}
		return nil
	}
}
