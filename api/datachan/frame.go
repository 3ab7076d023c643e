// Package datachan is the framing of Arca's data channel (see
// api/arca/v1/datachannel.proto): the Transfer calls carried over a plain TLS
// connection, chosen by ALPN, instead of HTTP/2. The server side lives in
// zones; the client side is Dial and Stream here.
package datachan

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
)

// The ALPN names of the data channel, newest first. Version 2 adds
// KindData frames; a peer that negotiated version 1 never sends or receives
// one.
const (
	Protocol   = "arca-data/2"
	ProtocolV1 = "arca-data/1"
)

// Protocols are the versions this package speaks, newest first.
var Protocols = []string{Protocol, ProtocolV1}

// MaxFrame bounds one frame, like gRPC's maximum message size: a peer that
// announces more is refused before anything is allocated.
const MaxFrame = 8 << 20

// MaxCallFrame bounds the DataCall that opens a connection: a method name
// and a few credentials.
const MaxCallFrame = 64 << 10

// Frame kinds.
const (
	KindMessage   byte = 0 // a request or response message
	KindCloseSend byte = 1 // the client has sent its last message; no body
	KindEnd       byte = 2 // the server's DataEnd; the call is over
	// KindData is the Data of a PutRequest (from the client) or of a
	// GetResponse (from the server) as raw bytes: file data is neither
	// copied into a message nor out of one.
	KindData byte = 3
)

// ErrFrameTooLarge is returned for a frame over MaxFrame.
var ErrFrameTooLarge = errors.New("data channel frame too large")

// Writer writes frames to a buffered connection.
type Writer struct {
	w   *bufio.Writer
	dst io.Writer
	buf []byte
}

// NewWriter writes frames to w through a buffer of size bytes.
func NewWriter(w io.Writer, size int) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, size), dst: w}
}

// Grow makes the buffer size bytes, if it is smaller. A server starts a
// connection with a small buffer and grows it once the caller is known, so
// that connections nobody logged in on cost little. Every write flushes, so
// nothing is buffered between writes.
func (fw *Writer) Grow(size int) {
	if fw.w.Size() < size {
		fw.w = bufio.NewWriterSize(fw.dst, size)
	}
}

// Write sends one frame of kind holding m (nil for no body) and flushes.
func (fw *Writer) Write(kind byte, m proto.Message) error {
	var err error
	fw.buf = fw.buf[:0]
	if m != nil {
		if fw.buf, err = (proto.MarshalOptions{}).MarshalAppend(fw.buf, m); err != nil {
			return fmt.Errorf("encode %T: %w", m, err)
		}
	}
	if len(fw.buf) > MaxFrame {
		return fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(fw.buf))
	}
	var head [5]byte
	head[0] = kind
	binary.BigEndian.PutUint32(head[1:], uint32(len(fw.buf)))
	if _, err := fw.w.Write(head[:]); err != nil {
		return err
	}
	if _, err := fw.w.Write(fw.buf); err != nil {
		return err
	}
	return fw.w.Flush()
}

// WriteData sends p as one KindData frame and flushes. A large p goes to
// the connection as it is, without passing through the buffer.
func (fw *Writer) WriteData(p []byte) error {
	if len(p) > MaxFrame {
		return fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(p))
	}
	var head [5]byte
	head[0] = KindData
	binary.BigEndian.PutUint32(head[1:], uint32(len(p)))
	if _, err := fw.w.Write(head[:]); err != nil {
		return err
	}
	if len(p) > fw.w.Available() {
		// An empty buffer makes bufio write p directly. The header then
		// goes in a record of its own: one small record per chunk instead
		// of a copy of the chunk.
		if err := fw.w.Flush(); err != nil {
			return err
		}
	}
	if _, err := fw.w.Write(p); err != nil {
		return err
	}
	return fw.w.Flush()
}

// Reader reads frames from a buffered connection.
type Reader struct {
	r     *bufio.Reader
	src   io.Reader
	limit uint32    // the largest frame Next accepts
	bufs  [2][]byte // used in turn; see Next
	turn  int
}

// NewReader reads frames from r through a buffer of size bytes, accepting
// frames of up to MaxFrame bytes.
func NewReader(r io.Reader, size int) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, size), src: r, limit: MaxFrame}
}

// Grow makes the buffer size bytes, if it is smaller, keeping what is
// buffered (see Writer.Grow). The bodies Next returned stay valid.
func (fr *Reader) Grow(size int) {
	if fr.r.Size() >= size {
		return
	}
	src := fr.src
	if n := fr.r.Buffered(); n > 0 {
		ahead, _ := fr.r.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), src)
	}
	fr.r = bufio.NewReaderSize(src, size)
}

// Limit makes Next refuse frames over n bytes (never more than MaxFrame)
// from now on. A server reads the DataCall under MaxCallFrame: until the
// caller is authenticated, a frame should not make it set aside 8 MiB.
func (fr *Reader) Limit(n int) {
	fr.limit = uint32(min(max(n, 0), MaxFrame))
}

// Next reads the next frame and returns its kind and body. The body is valid
// until the second call after this one, so that a caller can work on one
// frame while it reads the next.
func (fr *Reader) Next() (byte, []byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(fr.r, head[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n > fr.limit {
		return 0, nil, fmt.Errorf("%w: %d bytes announced, at most %d here", ErrFrameTooLarge, n, fr.limit)
	}
	fr.turn ^= 1
	buf := fr.bufs[fr.turn]
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	fr.bufs[fr.turn] = buf
	if _, err := io.ReadFull(fr.r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return head[0], buf, nil
}
