package datachan

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/arca-data/arca/api/arcapb"
)

// ErrUnsupported means the server does not speak the data channel; the
// caller uses gRPC instead.
var ErrUnsupported = errors.New("the server has no data channel")

// bufferSize is the socket buffering of each side of a stream.
const bufferSize = 256 << 10

// Stream is one call on a data-channel connection. It implements
// grpc.ClientStream, so that grpc.GenericClientStream turns it into the same
// typed stream the generated Transfer client returns, with gRPC's semantics:
// SendMsg returns io.EOF once the server has ended the call, RecvMsg returns
// io.EOF after a successful end and the call's status error otherwise.
type Stream struct {
	ctx  context.Context
	c    *conn
	pool *Pool // where the connection goes after a clean end; nil: closed

	msgs  chan frame    // response messages, closed at the end of the call
	held  [2][]byte     // the data of the last two data frames RecvMsg returned
	turn  int           // which of held the next data frame replaces
	ended chan struct{} // closed when the server's end (or a failure) is known
	end   error         // nil for OK; set before ended is closed
	// reusable is set with end: the call ended cleanly on a connection that
	// can carry another one.
	reusable bool

	oneReply  bool // the method answers once (client streaming, like Put)
	closeSent bool // CloseSend was called: the stream sends nothing more
	released  bool // the connection went back to the pool or was closed

	stopWatch func() bool
	closeOnce sync.Once
}

var _ grpc.ClientStream = (*Stream)(nil)

// frame is a response frame handed from the reading goroutine to RecvMsg.
type frame struct {
	kind byte
	body []byte
}

// Dial opens a data-channel connection to addr and starts the call method
// with md as its metadata; the connection is closed after the call. It
// offers every version in Protocols unless tlsConf names the versions to
// offer in NextProtos. It returns ErrUnsupported when the server does not
// negotiate the data channel.
func Dial(ctx context.Context, addr string, tlsConf *tls.Config, method string, md map[string]string) (*Stream, error) {
	c, err := dialConn(ctx, addr, tlsConf)
	if err != nil {
		return nil, err
	}
	return start(ctx, c, nil, method, md)
}

// start starts the call method on c. After a clean end, c goes back to
// pool if pool is set and c can carry another call.
func start(ctx context.Context, c *conn, pool *Pool, method string, md map[string]string) (*Stream, error) {
	s := &Stream{
		ctx: ctx, c: c, pool: pool, oneReply: answersOnce(method),
		msgs: make(chan frame, 4), ended: make(chan struct{}),
	}
	s.stopWatch = context.AfterFunc(ctx, s.close)
	if err := c.w.Write(KindMessage, &arcapb.DataCall{Method: method, Metadata: md}); err != nil {
		s.stopWatch()
		s.close()
		return nil, status.Errorf(codes.Unavailable, "data channel: %v", err)
	}
	go s.read()
	return s, nil
}

// answersOnce reports whether method, a Transfer method, sends one answer
// rather than a stream of them.
func answersOnce(method string) bool {
	for _, sd := range arcapb.Transfer_ServiceDesc.Streams {
		if "/"+arcapb.Transfer_ServiceDesc.ServiceName+"/"+sd.StreamName == method {
			return !sd.ServerStreams
		}
	}
	return false
}

// MetadataOf is the call metadata gRPC would send for ctx: what the context
// carries plus what the per-call credentials add (session token, ticket).
func MetadataOf(ctx context.Context, creds map[string]string) map[string]string {
	md := map[string]string{}
	out, _ := metadata.FromOutgoingContext(ctx)
	for k, v := range out {
		if len(v) > 0 {
			md[strings.ToLower(k)] = v[0]
		}
	}
	for k, v := range creds {
		md[strings.ToLower(k)] = v
	}
	return md
}

func (s *Stream) close() {
	s.closeOnce.Do(func() { s.c.tls.Close() })
}

// read delivers the server's frames until its end.
func (s *Stream) read() {
	defer close(s.msgs)
	for {
		kind, body, err := s.c.r.Next()
		if err != nil {
			s.finish(s.failure(err))
			return
		}
		switch kind {
		case KindMessage, KindData:
			// A copy: the reader reuses body, and RecvMsg may be late.
			select {
			case s.msgs <- frame{kind, s.copyOf(body)}:
			case <-s.ctx.Done():
				s.finish(status.FromContextError(s.ctx.Err()).Err())
				return
			}
		case KindEnd:
			var end arcapb.DataEnd
			if err := proto.Unmarshal(body, &end); err != nil {
				s.finish(status.Errorf(codes.Internal, "data channel: bad end of call: %v", err))
				return
			}
			err := decodeStatus(end.Status)
			// Only a call that ended well leaves the connection at a call
			// boundary: a failed one may still have the server draining.
			s.reusable = err == nil && s.c.raw && s.pool != nil
			s.finish(err)
			return
		default:
			s.finish(status.Errorf(codes.Internal, "data channel: unexpected frame kind %d from the server", kind))
			return
		}
	}
}

// copyOf copies body into a buffer that RecvMsg gave back, or a new one.
// Reusing them spares a download a fresh megabyte for every chunk.
func (s *Stream) copyOf(body []byte) []byte {
	var buf []byte
	select {
	case buf = <-s.c.free:
	default:
	}
	if cap(buf) < len(body) {
		buf = make([]byte, len(body))
	}
	buf = buf[:len(body)]
	copy(buf, body)
	return buf
}

// recycle hands buf back to read.
func (s *Stream) recycle(buf []byte) {
	if buf == nil {
		return
	}
	select {
	case s.c.free <- buf:
	default: // enough spare buffers already
	}
}

func (s *Stream) failure(err error) error {
	if s.ctx.Err() != nil {
		return status.FromContextError(s.ctx.Err()).Err()
	}
	return status.Errorf(codes.Unavailable, "data channel: connection lost: %v", err)
}

func (s *Stream) finish(err error) {
	s.end = err
	close(s.ended)
	if !s.reusable {
		// Nothing more will come; the connection is done.
		s.stopWatch()
		s.close()
	}
}

// release hands the connection of a call that ended to the pool, or closes
// it. It runs on the caller's goroutine, once RecvMsg has seen the end: by
// then the stream writes nothing more, so the next call has the connection
// to itself.
func (s *Stream) release() {
	if s.released {
		return
	}
	s.released = true
	if s.reusable && s.closeSent && s.stopWatch() {
		s.pool.put(s.c)
		return
	}
	s.stopWatch()
	s.close()
}

func (s *Stream) isEnded() bool {
	select {
	case <-s.ended:
		return true
	default:
		return false
	}
}

// SendMsg sends one request message.
func (s *Stream) SendMsg(m any) error {
	if s.isEnded() {
		return io.EOF
	}
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "data channel: %T is not a protobuf message", m)
	}
	if err := s.c.w.SendMsg(msg, s.c.raw); err != nil {
		if errors.Is(err, ErrFrameTooLarge) {
			return status.Error(codes.ResourceExhausted, err.Error())
		}
		// The reason, if the server gave one, comes from RecvMsg.
		return io.EOF
	}
	return nil
}

// CloseSend tells the server the last request message was sent.
func (s *Stream) CloseSend() error {
	if s.isEnded() {
		return nil
	}
	s.closeSent = true
	// A failure here shows in RecvMsg, as in gRPC.
	_ = s.c.w.Write(KindCloseSend, nil)
	return nil
}

// RecvMsg receives one response message, io.EOF after a successful end, or
// the call's error. The Data of a GetResponse that came as a KindData frame
// is valid until the second RecvMsg after this one: the buffer is then
// reused, which is as long as overlap.Copy needs it.
func (s *Stream) RecvMsg(m any) error {
	if err := s.recv(m); err != nil {
		return err
	}
	if s.oneReply {
		// As gRPC does for a call that answers once: the end follows the
		// answer, and its status is the call's.
		if err := s.recv(m); err != io.EOF {
			if err == nil {
				err = status.Error(codes.Internal, "data channel: more than one answer to a call that has one")
			}
			return err
		}
	}
	return nil
}

func (s *Stream) recv(m any) error {
	select {
	case f, ok := <-s.msgs:
		if !ok {
			s.release()
			if s.end != nil {
				return s.end
			}
			return io.EOF
		}
		if err := DecodeMsg(f.kind, f.body, m); err != nil {
			return status.Errorf(codes.Internal, "data channel: %v", err)
		}
		if f.kind == KindData {
			// m holds f.body; the data frame two before is free again.
			s.recycle(s.held[s.turn])
			s.held[s.turn] = f.body
			s.turn ^= 1
		} else {
			s.recycle(f.body) // decoding copied what m keeps
		}
		return nil
	case <-s.ctx.Done():
		return status.FromContextError(s.ctx.Err()).Err()
	}
}

func (s *Stream) Header() (metadata.MD, error) { return nil, nil }
func (s *Stream) Trailer() metadata.MD         { return nil }
func (s *Stream) Context() context.Context     { return s.ctx }

// EncodeStatus is the wire form of err's status for a DataEnd.
func EncodeStatus(err error) ([]byte, error) {
	if err == nil {
		return nil, nil
	}
	b, merr := proto.Marshal(status.Convert(err).Proto())
	if merr != nil {
		return nil, fmt.Errorf("encode status: %w", merr)
	}
	return b, nil
}

func decodeStatus(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	var st spb.Status
	if err := proto.Unmarshal(b, &st); err != nil {
		return status.Errorf(codes.Internal, "data channel: bad status from the server: %v", err)
	}
	if st.Code == int32(codes.OK) {
		return nil
	}
	return status.ErrorProto(&st)
}
