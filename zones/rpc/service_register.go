package rpc

import (
	"fmt"
	"io"

	"google.golang.org/grpc"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

// Registry

func (s *Service) RegisterObjects(stream grpc.ClientStreamingServer[arcapb.RegisterRequest, arcapb.RegisterResponse]) error {
	ctx := stream.Context()
	var done int64
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&arcapb.RegisterResponse{Registered: done})
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		var owner catalog.UserID // the zone decides (Zone.Register)
		if req.Owner != "" {
			if owner, err = catalog.ParseUserID(req.Owner, s.zone.Name()); err != nil {
				return err
			}
		}
		objs := make([]catalog.RegisteredObject, len(req.Objects))
		for i, o := range req.Objects {
			p, err := parsePath(o.Path)
			if err != nil {
				return fmt.Errorf("after %d registered: %w", done, err)
			}
			objs[i] = catalog.RegisteredObject{Path: p, Owner: owner, Metadata: avusFromPB(o.Metadata),
				Replicas: make([]catalog.RegisteredReplica, len(o.Replicas))}
			for j, r := range o.Replicas {
				objs[i].Replicas[j] = catalog.RegisteredReplica{Resource: r.Resource, PhysicalPath: r.PhysicalPath, Size: r.Size, Checksum: r.Checksum}
			}
		}
		if err := s.zone.Register(ctx, caller(ctx), objs, req.Parents, req.Verify); err != nil {
			return fmt.Errorf("after %d registered: %w", done, err)
		}
		done += int64(len(objs))
	}
}
