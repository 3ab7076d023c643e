package rpc

import (
	"context"

	"google.golang.org/grpc"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// qosService is the gRPC face of QoS requirements (zones/qos.go).
type qosService struct {
	arcapb.UnimplementedQoSServer
	zone *zones.Zone
}

func qosPB(r catalog.QoSRequirement) *arcapb.QoSRequirement {
	return &arcapb.QoSRequirement{Id: int64(r.ID), Path: r.Path.String(), Collection: r.Collection, Expression: r.Expr,
		Replicas: int32(r.Replicas), Creator: r.Creator.String(), CreateUnixNano: unixNano(r.CreateTime)}
}

func qosStatusPB(s zones.QoSStatus) *arcapb.QoSRequirement {
	out := qosPB(s.QoSRequirement)
	out.Status, out.Reason, out.Matching = s.Status, s.Reason, s.Matching
	out.Objects, out.Fulfilled = int64(s.Objects), int64(s.Fulfilled)
	return out
}

func (s *qosService) AddRequirement(ctx context.Context, req *arcapb.AddQoSRequest) (*arcapb.QoSRequirement, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	st, err := s.zone.AddQoS(ctx, caller(ctx), p, req.Expression, int(req.Replicas))
	if err != nil {
		return nil, err
	}
	return qosStatusPB(st), nil
}

func (s *qosService) RemoveRequirement(ctx context.Context, req *arcapb.RemoveQoSRequest) (*arcapb.QoSRequirement, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	r, err := s.zone.RemoveQoS(ctx, caller(ctx), p, catalog.ID(req.Id), req.Expression)
	if err != nil {
		return nil, err
	}
	return qosPB(r), nil
}

func (s *qosService) ListRequirements(req *arcapb.ListQoSRequest, stream grpc.ServerStreamingServer[arcapb.QoSRequirement]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	sts, err := s.zone.ListQoS(ctx, caller(ctx), p, req.Recursive)
	if err != nil {
		return err
	}
	for _, st := range sts {
		if err := stream.Send(qosStatusPB(st)); err != nil {
			return err
		}
	}
	return nil
}

func (s *qosService) Converge(req *arcapb.ConvergeQoSRequest, stream grpc.ServerStreamingServer[arcapb.QoSChange]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	chs, err := s.zone.ConvergeQoSNow(ctx, caller(ctx), p)
	for _, ch := range chs {
		out := &arcapb.QoSChange{Path: ch.Path.String(), Requirement: int64(ch.Requirement), Resource: ch.Resource, Replica: int32(ch.Replica)}
		if ch.Err != nil {
			out.Error = ch.Err.Error()
		}
		if serr := stream.Send(out); serr != nil {
			return serr
		}
	}
	return err
}
