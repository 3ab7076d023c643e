package rpc

import (
	"context"

	"google.golang.org/grpc"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// provenanceService, pidService and raidService are the gRPC faces of
// provenance, PIDs and RAiDs (api/arca/v1/provenance.proto, pid.proto,
// raid.proto).
type provenanceService struct {
	arcapb.UnimplementedProvenanceServer
	zone *zones.Zone
}

type pidService struct {
	arcapb.UnimplementedPIDsServer
	zone *zones.Zone
}

type raidService struct {
	arcapb.UnimplementedRAiDsServer
	zone *zones.Zone
}

// exportChunk is how much of a rendered document one message carries.
const exportChunk = 1 << 20

func (s *provenanceService) Export(req *arcapb.ExportProvenanceRequest, stream grpc.ServerStreamingServer[arcapb.ProvenanceChunk]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	format := req.Format
	if format == "" {
		format = "text"
	}
	doc, err := s.zone.ExportProvenance(ctx, caller(ctx), zones.ProvExport{Path: p, Depth: int(req.Depth), Format: format})
	if err != nil {
		return err
	}
	for len(doc) > 0 {
		n := min(len(doc), exportChunk)
		if err := stream.Send(&arcapb.ProvenanceChunk{Data: doc[:n]}); err != nil {
			return err
		}
		doc = doc[n:]
	}
	return nil
}

func (s *provenanceService) Verify(ctx context.Context, req *arcapb.VerifyProvenanceRequest) (*arcapb.VerifyProvenanceResponse, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	v, err := s.zone.VerifyProvenance(ctx, caller(ctx), p)
	if err != nil {
		return nil, err
	}
	out := &arcapb.VerifyProvenanceResponse{Chains: int64(v.Chains), Records: int64(v.Records)}
	for _, pr := range v.Problems {
		out.Problems = append(out.Problems, &arcapb.ProvenanceProblem{Path: pr.Path.String(), Subject: pr.Subject.String(), Seq: pr.Seq, Problem: pr.Problem})
	}
	return out, nil
}

func (s *provenanceService) Derive(ctx context.Context, req *arcapb.DeriveRequest) (*arcapb.DeriveResponse, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	var sources []catalog.Path
	for _, src := range req.Sources {
		sp, err := parsePath(src)
		if err != nil {
			return nil, err
		}
		sources = append(sources, sp)
	}
	if err := s.zone.Derive(ctx, caller(ctx), p, sources); err != nil {
		return nil, err
	}
	return &arcapb.DeriveResponse{}, nil
}

func pidPB(p zones.PID) *arcapb.PIDInfo {
	out := &arcapb.PIDInfo{Handle: p.Handle}
	if !p.Path.IsZero() {
		out.Path = p.Path.String()
	}
	for _, v := range p.Values {
		hv := &arcapb.HandleValue{Index: int32(v.Index), Type: v.Type, Data: v.Data, Ttl: v.TTL}
		if !v.Timestamp.IsZero() {
			hv.TimestampUnix = v.Timestamp.Unix()
		}
		out.Values = append(out.Values, hv)
	}
	return out
}

func (s *pidService) Mint(req *arcapb.MintPIDRequest, stream grpc.ServerStreamingServer[arcapb.PIDInfo]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	return s.zone.MintPIDs(ctx, caller(ctx), p, req.Recursive, func(pid zones.PID) error {
		return stream.Send(pidPB(pid))
	})
}

func (s *pidService) Show(ctx context.Context, req *arcapb.ShowPIDRequest) (*arcapb.PIDInfo, error) {
	pid, err := s.zone.ShowPID(ctx, caller(ctx), req.Ref)
	if err != nil {
		return nil, err
	}
	return pidPB(pid), nil
}

func raidPB(r zones.RAiD) *arcapb.RAiDInfo {
	return &arcapb.RAiDInfo{Id: r.ID, Owner: r.Owner.String(), Closed: r.Closed, Document: r.Doc, Version: r.Version}
}

func (s *raidService) Create(ctx context.Context, req *arcapb.CreateRAiDRequest) (*arcapb.RAiDInfo, error) {
	r, err := s.zone.CreateRAiD(ctx, caller(ctx), zones.RAiDRequest{Title: req.Title, Description: req.Description,
		Start: req.Start, End: req.End, Contributors: req.Contributors, Organisations: req.Organisations,
		Embargo: req.Embargo, Doc: req.Document})
	if err != nil {
		return nil, err
	}
	return raidPB(r), nil
}

func (s *raidService) Show(ctx context.Context, req *arcapb.ShowRAiDRequest) (*arcapb.RAiDInfo, error) {
	r, err := s.zone.ShowRAiD(ctx, caller(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return raidPB(r), nil
}

func (s *raidService) Link(ctx context.Context, req *arcapb.LinkRAiDRequest) (*arcapb.RAiDInfo, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	r, err := s.zone.LinkRAiD(ctx, caller(ctx), req.Id, p, req.Unlink)
	if err != nil {
		return nil, err
	}
	return raidPB(r), nil
}
