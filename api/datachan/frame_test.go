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

// TestDataFrames sends file data as KindData frames, a large chunk past the
// buffer and a small one through it, and decodes them into the messages that
// carry data; a body stays intact until the second Next after it.
func TestDataFrames(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, 64)
	big, small := bytes.Repeat([]byte{1, 2, 3}, 1000), []byte("tail")
	header := &arcapb.PutRequest{Part: &arcapb.PutRequest_Header{Header: &arcapb.PutHeader{Path: "/z/a"}}}
	for _, m := range []proto.Message{
		header,
		&arcapb.PutRequest{Part: &arcapb.PutRequest_Data{Data: big}},
		&arcapb.GetResponse{Part: &arcapb.GetResponse_Data{Data: small}},
	} {
		if err := w.SendMsg(m, true); err != nil {
			t.Fatal(err)
		}
	}
	// Without raw, data goes as a message, as version 1 wants.
	if err := w.SendMsg(&arcapb.PutRequest{Part: &arcapb.PutRequest_Data{Data: small}}, false); err != nil {
		t.Fatal(err)
	}

	r := NewReader(&buf, 64)
	wantKinds := []byte{KindMessage, KindData, KindData, KindMessage}
	var bodies [][]byte
	for i, want := range wantKinds {
		kind, body, err := r.Next()
		if err != nil || kind != want {
			t.Fatalf("frame %d: kind %d, %v; want kind %d", i, kind, err, want)
		}
		bodies = append(bodies, body)
		// One Next later, the body before must still be intact; two
		// later, it may be reused.
		switch i {
		case 2:
			var put arcapb.PutRequest
			if err := DecodeMsg(KindData, bodies[1], &put); err != nil || !bytes.Equal(put.GetData(), big) {
				t.Errorf("data frame as a PutRequest, one frame later: %v; %d bytes", err, len(put.GetData()))
			}
		case 3:
			var get arcapb.GetResponse
			if err := DecodeMsg(KindData, bodies[2], &get); err != nil || !bytes.Equal(get.GetData(), small) {
				t.Errorf("data frame as a GetResponse, one frame later: %v, %q", err, get.GetData())
			}
		}
	}
	var last arcapb.PutRequest
	if err := DecodeMsg(KindMessage, bodies[3], &last); err != nil || !bytes.Equal(last.GetData(), small) {
		t.Errorf("version 1 data message: %v, %q", err, last.GetData())
	}
	if err := DecodeMsg(KindData, small, &arcapb.DataCall{}); err == nil {
		t.Error("a data frame decoded into a DataCall")
	}
	if err := DecodeMsg(KindEnd, nil, &last); err == nil {
		t.Error("an end frame decoded as a message")
	}
	if err := w.WriteData(make([]byte, MaxFrame+1)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("WriteData over MaxFrame: %v, want %v", err, ErrFrameTooLarge)
	}
}

func TestFrameRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		in    []byte
		limit int // 0: the default, MaxFrame
		want  error
	}{
		"too large":          {in: []byte{0, 0x7f, 0xff, 0xff, 0xff}, want: ErrFrameTooLarge},
		"cut header":         {in: []byte{0, 0, 0}, want: io.ErrUnexpectedEOF},
		"cut body":           {in: []byte{0, 0, 0, 0, 9, 1, 2}, want: io.ErrUnexpectedEOF},
		"just over max":      {in: []byte{0, 0x00, 0x80, 0x00, 0x01}, want: ErrFrameTooLarge},
		"over a lower limit": {in: []byte{0, 0, 0x01, 0x00, 0x01}, limit: MaxCallFrame, want: ErrFrameTooLarge},
		"a limit above max":  {in: []byte{0, 0x00, 0x80, 0x00, 0x01}, limit: 2 * MaxFrame, want: ErrFrameTooLarge},
		"at a lower limit":   {in: append([]byte{0, 0, 0, 0, 4}, "abcd"...), limit: 4, want: nil},
		"a limit of nothing": {in: []byte{0, 0, 0, 0, 1, 'x'}, limit: -1, want: ErrFrameTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tc.in), 16)
			if tc.limit != 0 {
				r.Limit(tc.limit)
			}
			_, _, err := r.Next()
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
	f.Add([]byte{3, 0, 0, 0, 3, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), 16)
		for {
			kind, body, err := r.Next()
			if err != nil {
				return
			}
			if len(body) > MaxFrame {
				t.Fatalf("frame of %d bytes", len(body))
			}
			var call arcapb.DataCall
			_ = proto.Unmarshal(body, &call)
			var put arcapb.PutRequest
			_ = DecodeMsg(kind, body, &put)
		}
	})
}

func TestAnswersOnce(t *testing.T) {
	for method, want := range map[string]bool{
		arcapb.Transfer_Put_FullMethodName:     true,
		arcapb.Transfer_Get_FullMethodName:     false,
		arcapb.Transfer_PutMany_FullMethodName: false,
		"/arca.v1.Admin/RemoveUser":            false,
	} {
		if got := answersOnce(method); got != want {
			t.Errorf("answersOnce(%s) = %v, want %v", method, got, want)
		}
	}
}

// A reader grown between frames keeps what it had buffered, and a grown
// writer writes on.
func TestGrow(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, 16)
	for i := range 3 {
		if err := w.WriteData(bytes.Repeat([]byte{byte('a' + i)}, 100)); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			w.Grow(1 << 10)
		}
	}
	r := NewReader(&buf, 16)
	for i := range 3 {
		kind, body, err := r.Next()
		if err != nil || kind != KindData || !bytes.Equal(body, bytes.Repeat([]byte{byte('a' + i)}, 100)) {
			t.Fatalf("frame %d: kind %d, %q, %v", i, kind, body, err)
		}
		if i == 0 {
			r.Grow(1 << 10)
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last frame: %v", err)
	}
}
