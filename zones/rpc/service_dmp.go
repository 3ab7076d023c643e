package rpc

import (
	"context"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/zones"
)

// dmpService is the gRPC face of DMP import (zones/dmp.go).
type dmpService struct {
	arcapb.UnimplementedDMPsServer
	zone *zones.Zone
}

func (s *dmpService) Import(ctx context.Context, req *arcapb.ImportDMPRequest) (*arcapb.DMPDocument, error) {
	out, err := s.zone.ImportDMP(ctx, caller(ctx), req.Document, req.Datasets, req.DryRun)
	if err != nil {
		return nil, err
	}
	return &arcapb.DMPDocument{Json: out}, nil
}

func (s *dmpService) List(ctx context.Context, _ *arcapb.ListDMPsRequest) (*arcapb.DMPDocument, error) {
	out, err := s.zone.ListDMPs(ctx, caller(ctx))
	if err != nil {
		return nil, err
	}
	return &arcapb.DMPDocument{Json: out}, nil
}

func (s *dmpService) Show(ctx context.Context, req *arcapb.ShowDMPRequest) (*arcapb.DMPDocument, error) {
	out, err := s.zone.ShowDMP(ctx, caller(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return &arcapb.DMPDocument{Json: out}, nil
}
