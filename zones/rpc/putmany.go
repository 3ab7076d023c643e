package rpc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// putManyWindow bounds the files of one PutMany stream being stored at once.
// The server reads no further request until one of them finishes, which
// holds the client back through the stream's flow control.
const putManyWindow = 128

// PutMany stores each file the stream brings as its own put (the same
// authorization, rules, quotas and durability as Put), concurrently, and
// answers each as soon as it is committed or has failed.
func (s *Service) PutMany(stream grpc.BidiStreamingServer[arcapb.PutManyRequest, arcapb.PutManyResponse]) error {
	ctx := stream.Context()
	who := caller(ctx)
	var (
		sendMu  sync.Mutex
		sendErr error
		running sync.WaitGroup
	)
	send := func(r *arcapb.PutManyResponse) {
		sendMu.Lock()
		defer sendMu.Unlock()
		if sendErr == nil {
			sendErr = stream.Send(r)
		}
	}
	// Every put started is waited for: its answer, or its cleanup when the
	// stream ended under it, happens before the call returns.
	defer running.Wait()
	// Requests are received apart, so that a shutdown is seen while the
	// stream waits for the next one.
	type received struct {
		msg *arcapb.PutManyRequest
		err error
	}
	requests := make(chan received)
	go func() {
		for {
			msg, err := stream.Recv()
			select {
			case requests <- received{msg, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	slots := make(chan struct{}, putManyWindow)
	for {
		var r received
		select {
		case slots <- struct{}{}:
			select {
			case r = <-requests:
			case <-s.draining:
				return s.drained(&running, &sendMu, &sendErr)
			case <-ctx.Done():
				return ctx.Err()
			}
		case <-s.draining:
			return s.drained(&running, &sendMu, &sendErr)
		case <-ctx.Done():
			return ctx.Err()
		}
		msg, err := r.msg, r.err
		if err == io.EOF {
			running.Wait()
			sendMu.Lock()
			defer sendMu.Unlock()
			return sendErr
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		running.Add(1)
		go func() {
			defer func() { <-slots; running.Done() }()
			resp := &arcapb.PutManyResponse{Id: msg.Id}
			obj, err := s.putWhole(ctx, who, msg.File)
			if err != nil {
				resp.Status = status.Convert(toStatus(err)).Proto()
			} else {
				resp.Entry = entryPB(catalog.Entry{Object: &obj}, true, false)
			}
			send(resp)
		}()
	}
}

// drained ends a PutMany stream at a shutdown: the puts started are
// answered, the rest of the stream is refused, so that the client tells
// the files stored from those that were not.
func (s *Service) drained(running *sync.WaitGroup, sendMu *sync.Mutex, sendErr *error) error {
	running.Wait()
	sendMu.Lock()
	defer sendMu.Unlock()
	if *sendErr != nil {
		return *sendErr
	}
	return status.Error(codes.Unavailable, "the server is shutting down: files not answered were not stored; run again")
}

// putWhole stores a file that came whole in its header.
func (s *Service) putWhole(ctx context.Context, who zones.Principal, h *arcapb.PutHeader) (catalog.DataObject, error) {
	switch {
	case h == nil:
		return catalog.DataObject{}, fmt.Errorf("%w: a PutMany request carries a file", catalog.ErrInvalidArgument)
	case h.Verify:
		return catalog.DataObject{}, fmt.Errorf("%w: %s: PutMany has no trailer for verify: send the checksum in the header", catalog.ErrInvalidArgument, h.Path)
	case len(h.Data) > arcapb.PutManyMaxFile:
		return catalog.DataObject{}, fmt.Errorf("%w: %s: %d bytes is more than PutMany takes (%d): use Put", catalog.ErrInvalidArgument, h.Path, len(h.Data), arcapb.PutManyMaxFile)
	case h.Size != int64(len(h.Data)):
		return catalog.DataObject{}, fmt.Errorf("%w: %s: size %d, but %d bytes of data came", catalog.ErrInvalidArgument, h.Path, h.Size, len(h.Data))
	}
	p, err := parsePath(h.Path)
	if err != nil {
		return catalog.DataObject{}, err
	}
	req := zones.PutRequest{Path: p, Size: h.Size, Resource: h.Resource, Overwrite: h.Overwrite, Checksum: h.Checksum,
		Metadata: avusFromPB(h.Metadata)}
	return s.zone.Put(ctx, who, req, bytes.NewReader(h.Data))
}
