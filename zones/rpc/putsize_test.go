package rpc_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
)

// TestPutNegativeSize: a put that announces a negative size other than -1
// (unknown) is a bad request on every transport, refused before a rule or
// a byte sees it (a rule on op.size > N would be passed by announcing -7);
// -1 is taken where a stream carries the bytes.
func TestPutNegativeSize(t *testing.T) {
	e := newDataEnv(t)
	ctx, cancel := context.WithTimeout(authCtx(context.Background(), e.token), time.Minute)
	defer cancel()
	data := []byte("twenty bytes of data")
	const home = "/tempZone/home/rods/"

	send := func(stream grpc.ClientStreamingClient[arcapb.PutRequest, arcapb.Entry], path string, size int64) error {
		for _, m := range []*arcapb.PutRequest{
			{Part: &arcapb.PutRequest_Header{Header: &arcapb.PutHeader{Path: path, Size: size}}},
			{Part: &arcapb.PutRequest_Data{Data: data}},
		} {
			if err := stream.Send(m); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return err
			}
		}
		_, err := stream.CloseAndRecv()
		return err
	}
	transports := map[string]func(path string, size int64) error{
		"grpc": func(path string, size int64) error {
			stream, err := arcapb.NewTransferClient(e.grpc).Put(ctx)
			if err != nil {
				return err
			}
			return send(stream, path, size)
		},
		"data channel": func(path string, size int64) error {
			s := e.dial(ctx, arcapb.Transfer_Put_FullMethodName, e.token)
			return send(&grpc.GenericClientStream[arcapb.PutRequest, arcapb.Entry]{ClientStream: s}, path, size)
		},
		"putmany": func(path string, size int64) error {
			stream, err := arcapb.NewTransferClient(e.grpc).PutMany(ctx)
			if err != nil {
				return err
			}
			if err := stream.Send(&arcapb.PutManyRequest{Id: 1, File: &arcapb.PutHeader{Path: path, Size: size, Data: data}}); err != nil {
				return err
			}
			stream.CloseSend()
			r, err := stream.Recv()
			if err != nil {
				return err
			}
			return status.FromProto(r.Status).Err()
		},
	}
	ns := arcapb.NewNamespaceClient(e.grpc)
	for name, put := range transports {
		t.Run(name, func(t *testing.T) {
			for _, size := range []int64{-7, -2, -1 << 62} {
				path := home + strings.ReplaceAll(name, " ", "-") + "-negative"
				err := put(path, size)
				if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "size") {
					t.Errorf("size %d: %v, want InvalidArgument naming the size", size, err)
				}
				if _, err := ns.Stat(ctx, &arcapb.StatRequest{Path: path}); status.Code(err) != codes.NotFound {
					t.Errorf("size %d: a refused put left %s: %v", size, path, err)
				}
			}
			if name == "putmany" {
				return // a whole file has a known size
			}
			path := home + strings.ReplaceAll(name, " ", "-") + "-unknown"
			if err := put(path, -1); err != nil {
				t.Errorf("size -1 (unknown): %v", err)
			}
			if st, err := ns.Stat(ctx, &arcapb.StatRequest{Path: path}); err != nil || st.Size != int64(len(data)) {
				t.Errorf("size -1: stat %v, %v", st, err)
			}
		})
	}
}
