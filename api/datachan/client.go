package datachan

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"slices"
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

// Stream is one call on its own data-channel connection. It implements
// grpc.ClientStream, so that grpc.GenericClientStream turns it into the same
// typed stream the generated Transfer client returns, with gRPC's semantics:
// SendMsg returns io.EOF once the server has ended the call, RecvMsg returns
// io.EOF after a successful end and the call's status error otherwise.
type Stream struct {
	ctx  context.Context
	conn *tls.Conn
	w    *Writer
	raw  bool // the server speaks Protocol: data goes in KindData frames

	msgs  chan frame    // response messages, closed at the end of the call
	free  chan []byte   // frame buffers RecvMsg is done with, for read to reuse
	held  [2][]byte     // the data of the last two data frames RecvMsg returned
	turn  int           // which of held the next data frame replaces
	ended chan struct{} // closed when the server's end (or a failure) is known
	end   error         // nil for OK; set before ended is closed

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
// with md as its metadata. It offers every version in Protocols unless
// tlsConf names the versions to offer in NextProtos. It returns
// ErrUnsupported when the server does not negotiate the data channel.
func Dial(ctx context.Context, addr string, tlsConf *tls.Config, method string, md map[string]string) (*Stream, error) {
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
	conn := raw.(*tls.Conn)
	version := conn.ConnectionState().NegotiatedProtocol
	if !slices.Contains(Protocols, version) {
		conn.Close()
		return nil, ErrUnsupported
	}
	s := &Stream{
		ctx: ctx, conn: conn, w: NewWriter(conn, bufferSize), raw: version == Protocol,
		msgs: make(chan frame, 4), free: make(chan []byte, 8), ended: make(chan struct{}),
	}
	s.stopWatch = context.AfterFunc(ctx, s.close)
	if err := s.w.Write(KindMessage, &arcapb.DataCall{Method: method, Metadata: md}); err != nil {
		s.close()
		return nil, status.Errorf(codes.Unavailable, "data channel to %s: %v", addr, err)
	}
	go s.read()
	return s, nil
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
	s.closeOnce.Do(func() { s.conn.Close() })
}

// read delivers the server's frames until its end.
func (s *Stream) read() {
	defer close(s.msgs)
	fr := NewReader(s.conn, bufferSize)
	for {
		kind, body, err := fr.Next()
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
			s.finish(decodeStatus(end.Status))
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
	case buf = <-s.free:
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
	case s.free <- buf:
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
	// Nothing more will come; the connection is done.
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
	if err := s.w.SendMsg(msg, s.raw); err != nil {
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
	// A failure here shows in RecvMsg, as in gRPC.
	_ = s.w.Write(KindCloseSend, nil)
	return nil
}

// RecvMsg receives one response message, io.EOF after a successful end, or
// the call's error. The Data of a GetResponse that came as a KindData frame
// is valid until the second RecvMsg after this one: the buffer is then
// reused, which is as long as overlap.Copy needs it.
func (s *Stream) RecvMsg(m any) error {
	select {
	case f, ok := <-s.msgs:
		if !ok {
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
