package datachan

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/arca-data/arca/api/arcapb"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, 64)
	msgs := []*arcapb.PutRequest{
		{Part: &arcapb.PutRequest_Header{Header: &arcapb.PutHeader{Path: "/z/a", Size: 3}}},
		{Part: &arcapb.PutRequest_Data{Data: bytes.Repeat([]byte{7}, 1000)}},
	}
	for _, m := range msgs {
		if err := w.Write(KindMessage, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Write(KindCloseSend, nil); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&buf, 64)
	for i, want := range msgs {
		kind, body, err := r.Next()
		if err != nil || kind != KindMessage {
			t.Fatalf("frame %d: kind %d, %v", i, kind, err)
		}
		var got arcapb.PutRequest
		if err := proto.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&got, want) {
			t.Errorf("frame %d: %v, want %v", i, &got, want)
		}
	}
	if kind, body, err := r.Next(); err != nil || kind != KindCloseSend || len(body) != 0 {
		t.Errorf("close frame: kind %d, %d bytes, %v", kind, len(body), err)
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last frame: %v, want io.EOF", err)
	}
}

func TestFrameRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"too large":     {[]byte{0, 0x7f, 0xff, 0xff, 0xff}, ErrFrameTooLarge},
		"cut header":    {[]byte{0, 0, 0}, io.ErrUnexpectedEOF},
		"cut body":      {[]byte{0, 0, 0, 0, 9, 1, 2}, io.ErrUnexpectedEOF},
		"just over max": {[]byte{0, 0x00, 0x80, 0x00, 0x01}, ErrFrameTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := NewReader(bytes.NewReader(tc.in), 16).Next()
			if !errors.Is(err, tc.want) {
				t.Errorf("Next = %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzReader feeds the frame reader what a hostile peer could send: it must
// neither panic nor return a frame over MaxFrame.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 2, 8, 1, 2, 0, 0, 0, 0})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), 16)
		for {
			_, body, err := r.Next()
			if err != nil {
				return
			}
			if len(body) > MaxFrame {
				t.Fatalf("frame of %d bytes", len(body))
			}
			var call arcapb.DataCall
			_ = proto.Unmarshal(body, &call)
		}
	})
}
