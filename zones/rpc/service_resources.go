package rpc

import (
	"context"
	"errors"

	"google.golang.org/grpc"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// resourcesService and replicasService are the gRPC faces of resource
// administration and replica management (api/arca/v1/resources.proto).
type resourcesService struct {
	arcapb.UnimplementedResourcesServer
	zone *zones.Zone
}

type replicasService struct {
	arcapb.UnimplementedReplicasServer
	zone *zones.Zone
}

func resourcePB(r zones.ResourceInfo) *arcapb.Resource {
	return &arcapb.Resource{Name: r.Name, Type: r.Type, Location: r.Location, Context: r.Context, Status: r.Status,
		Comment: r.Comment, Parent: r.Parent, Role: r.Role, Children: r.Children, Hierarchy: r.Hierarchy, Qos: r.QoS,
		CreateUnix: r.CreateTime.Unix(), ModifyUnix: r.ModifyTime.Unix()}
}

// info fills the tree fields of one resource.
func (s *resourcesService) info(ctx context.Context, r catalog.Resource) *arcapb.Resource {
	return resourcePB(s.zone.DescribeResource(ctx, r))
}

func (s *resourcesService) MakeResource(ctx context.Context, req *arcapb.MakeResourceRequest) (*arcapb.Resource, error) {
	r, err := s.zone.MakeResource(ctx, caller(ctx), catalog.Resource{Name: req.Name, Type: req.Type, Location: req.Location, Context: req.Context})
	if err != nil {
		return nil, err
	}
	return s.info(ctx, r), nil
}

func (s *resourcesService) ModifyResource(ctx context.Context, req *arcapb.ModifyResourceRequest) (*arcapb.Resource, error) {
	r, err := s.zone.ModifyResource(ctx, caller(ctx), req.Name, req.Field, req.Value)
	if err != nil {
		return nil, err
	}
	return s.info(ctx, r), nil
}

func (s *resourcesService) RemoveResource(ctx context.Context, req *arcapb.RemoveResourceRequest) (*arcapb.RemoveResourceResponse, error) {
	if err := s.zone.RemoveResource(ctx, caller(ctx), req.Name); err != nil {
		return nil, err
	}
	return &arcapb.RemoveResourceResponse{}, nil
}

func (s *resourcesService) AddChild(ctx context.Context, req *arcapb.ChildRequest) (*arcapb.Resource, error) {
	r, err := s.zone.AddChild(ctx, caller(ctx), req.Parent, req.Child, req.Role)
	if err != nil {
		return nil, err
	}
	return s.info(ctx, r), nil
}

func (s *resourcesService) RemoveChild(ctx context.Context, req *arcapb.ChildRequest) (*arcapb.Resource, error) {
	r, err := s.zone.RemoveChild(ctx, caller(ctx), req.Parent, req.Child)
	if err != nil {
		return nil, err
	}
	return s.info(ctx, r), nil
}

func (s *resourcesService) ListResources(ctx context.Context, _ *arcapb.ListResourcesRequest) (*arcapb.ListResourcesResponse, error) {
	rs, err := s.zone.ListResources(ctx, caller(ctx))
	if err != nil {
		return nil, err
	}
	out := &arcapb.ListResourcesResponse{}
	for _, r := range rs {
		out.Resources = append(out.Resources, resourcePB(r))
	}
	return out, nil
}

func changePB(ch zones.ReplicaChange) *arcapb.ReplicaChange {
	out := &arcapb.ReplicaChange{Path: ch.Path.String(), Action: ch.Action, Resource: ch.Resource, Replica: int32(ch.Replica)}
	if ch.Err != nil {
		out.Error = ch.Err.Error()
		out.Denied = errors.Is(ch.Err, catalog.ErrRetained)
	}
	for _, r := range ch.Object.Replicas {
		out.Replicas = append(out.Replicas, replicaPB(r))
	}
	return out
}

func (s *replicasService) Replicate(req *arcapb.ReplicateRequest, stream grpc.ServerStreamingServer[arcapb.ReplicaChange]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	return s.zone.Replicate(ctx, caller(ctx), zones.ReplicateRequest{Path: p, Dest: req.DestResource, Source: req.SrcResource,
		UpdateStale: req.UpdateStale, Recursive: req.Recursive}, func(ch zones.ReplicaChange) error {
		return stream.Send(changePB(ch))
	})
}

func (s *replicasService) Trim(req *arcapb.TrimRequest, stream grpc.ServerStreamingServer[arcapb.ReplicaChange]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	return s.zone.Trim(ctx, caller(ctx), zones.TrimRequest{Path: p, Keep: int(req.Keep), Resource: req.Resource,
		Recursive: req.Recursive, DryRun: req.DryRun}, func(ch zones.ReplicaChange) error {
		return stream.Send(changePB(ch))
	})
}

func (s *replicasService) PhysMove(req *arcapb.PhysMoveRequest, stream grpc.ServerStreamingServer[arcapb.ReplicaChange]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	return s.zone.PhysMove(ctx, caller(ctx), zones.PhysMoveRequest{Path: p, Source: req.SrcResource, Dest: req.DestResource,
		Recursive: req.Recursive}, func(ch zones.ReplicaChange) error {
		return stream.Send(changePB(ch))
	})
}

func (s *replicasService) Fsck(req *arcapb.FsckRequest, stream grpc.ServerStreamingServer[arcapb.FsckFinding]) error {
	ctx := stream.Context()
	return s.zone.Fsck(ctx, caller(ctx), zones.FsckRequest{Repair: req.Repair, VerifyChecksums: req.VerifyChecksums, Resource: req.Resource},
		func(f zones.Finding) error {
			out := &arcapb.FsckFinding{Kind: f.Kind, Resource: f.Resource, Replica: int32(f.Replica),
				PhysicalPath: f.PhysicalPath, Detail: f.Detail, Repaired: f.Repaired, Repair: f.Repair}
			if !f.Path.IsZero() {
				out.Path = f.Path.String()
			}
			return stream.Send(out)
		})
}

func (s *replicasService) Stage(ctx context.Context, req *arcapb.StageRequest) (*arcapb.StageResponse, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	res, err := s.zone.Stage(ctx, caller(ctx), p, req.Recursive)
	if err != nil {
		return nil, err
	}
	return &arcapb.StageResponse{Queued: res.Queued, Online: res.Online}, nil
}
