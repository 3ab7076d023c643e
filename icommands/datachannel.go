package icommands

import (
	"context"
	"errors"

	"google.golang.org/grpc"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/api/datachan"
)

// dialData starts method on a data-channel connection (see
// api/arca/v1/datachannel.proto), one the client used before if it can (see
// datachan.Pool). Every transfer that does not fit one message goes this
// way: with connections reused, it costs less than a gRPC stream for files
// of any size (300 KiB files: iput +13%, iget +15%; 4 KiB gets: +10-50%).
// It returns a nil stream, and no error, when the server has no data
// channel, so that the caller uses gRPC; it remembers that for the client's
// later transfers.
func (c *client) dialData(ctx context.Context, method string) (*datachan.Stream, error) {
	if c.noDataChannel.Load() {
		return nil, nil
	}
	md, err := c.creds.GetRequestMetadata(ctx)
	if err != nil {
		return nil, err
	}
	s, err := c.data.Call(ctx, method, datachan.MetadataOf(ctx, md))
	if errors.Is(err, datachan.ErrUnsupported) {
		c.noDataChannel.Store(true)
		return nil, nil
	}
	return s, err
}

// putStream opens the upload of a file.
func (c *client) putStream(ctx context.Context) (arcapb.Transfer_PutClient, error) {
	s, err := c.dialData(ctx, arcapb.Transfer_Put_FullMethodName)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.xfer.Put(ctx)
	}
	return &grpc.GenericClientStream[arcapb.PutRequest, arcapb.Entry]{ClientStream: s}, nil
}

// getStream opens the download of a data object.
func (c *client) getStream(ctx context.Context, req *arcapb.GetRequest) (arcapb.Transfer_GetClient, error) {
	s, err := c.dialData(ctx, arcapb.Transfer_Get_FullMethodName)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.xfer.Get(ctx, req)
	}
	// If the server ended the call at once, the stream's first Recv says why.
	if err := s.SendMsg(req); err == nil {
		s.CloseSend()
	}
	return &grpc.GenericClientStream[arcapb.GetRequest, arcapb.GetResponse]{ClientStream: s}, nil
}
