package datachan

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/arca-data/arca/api/arcapb"
)

// SendMsg writes m as one frame: the file data of a transfer as a KindData
// frame when raw (the peer negotiated Protocol), anything else as a
// KindMessage frame.
func (fw *Writer) SendMsg(m proto.Message, raw bool) error {
	if raw {
		if p, ok := dataOf(m); ok {
			return fw.WriteData(p)
		}
	}
	return fw.Write(KindMessage, m)
}

// DecodeMsg fills m from the body of a KindMessage or KindData frame. The
// data of a KindData frame is body itself, not a copy: it is valid as long
// as body is.
func DecodeMsg(kind byte, body []byte, m any) error {
	switch kind {
	case KindData:
		if !setData(m, body) {
			return fmt.Errorf("a data frame where a %T was expected", m)
		}
		return nil
	case KindMessage:
		msg, ok := m.(proto.Message)
		if !ok {
			return fmt.Errorf("%T is not a protobuf message", m)
		}
		if err := proto.Unmarshal(body, msg); err != nil {
			return fmt.Errorf("decode %T: %w", m, err)
		}
		return nil
	default:
		return fmt.Errorf("unexpected frame kind %d", kind)
	}
}

// dataOf is the file data that m carries, if m is a data message of a
// transfer, which version 2 sends as a KindData frame.
func dataOf(m any) ([]byte, bool) {
	switch m := m.(type) {
	case *arcapb.PutRequest:
		if d, ok := m.Part.(*arcapb.PutRequest_Data); ok {
			return d.Data, true
		}
	case *arcapb.GetResponse:
		if d, ok := m.Part.(*arcapb.GetResponse_Data); ok {
			return d.Data, true
		}
	}
	return nil, false
}

// setData makes m the data message holding p, the body of a KindData frame;
// it reports false if m is not a message that carries data.
func setData(m any, p []byte) bool {
	switch m := m.(type) {
	case *arcapb.PutRequest:
		m.Part = &arcapb.PutRequest_Data{Data: p}
	case *arcapb.GetResponse:
		m.Part = &arcapb.GetResponse_Data{Data: p}
	default:
		return false
	}
	return true
}
