package rpc

import (
	"context"
	"fmt"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

// Quotas

func quotaPB(q catalog.Quota) *arcapb.QuotaInfo {
	out := &arcapb.QuotaInfo{Kind: string(q.Kind), Resource: q.Resource, MaxBytes: q.MaxBytes, MaxObjects: q.MaxObjects,
		UsedBytes: q.UsedBytes, UsedObjects: q.UsedObjects}
	if q.Kind == catalog.QuotaCollection {
		out.Path = q.Path.String()
	} else {
		out.Principal = q.Principal.String()
	}
	return out
}

func (s *Service) quotaFromPB(in *arcapb.QuotaInfo) (catalog.Quota, error) {
	if in == nil {
		return catalog.Quota{}, fmt.Errorf("%w: no quota", catalog.ErrInvalidArgument)
	}
	q := catalog.Quota{Kind: catalog.QuotaKind(in.Kind), Resource: in.Resource, MaxBytes: in.MaxBytes, MaxObjects: in.MaxObjects}
	switch q.Kind {
	case catalog.QuotaUser, catalog.QuotaGroup:
		id, err := catalog.ParseUserID(in.Principal, s.zone.Name())
		if err != nil {
			return q, err
		}
		q.Principal = id
	case catalog.QuotaCollection:
		p, err := parsePath(in.Path)
		if err != nil {
			return q, err
		}
		q.Path = p
	default:
		return q, fmt.Errorf("%w: quota kind %q: want user, group or collection", catalog.ErrInvalidArgument, in.Kind)
	}
	return q, nil
}

func (s *Service) SetQuota(ctx context.Context, req *arcapb.SetQuotaRequest) (*arcapb.SetQuotaResponse, error) {
	q, err := s.quotaFromPB(req.Quota)
	if err != nil {
		return nil, err
	}
	if err := s.zone.SetQuota(ctx, caller(ctx), q); err != nil {
		return nil, err
	}
	return &arcapb.SetQuotaResponse{}, nil
}

func (s *Service) ListQuotas(ctx context.Context, req *arcapb.ListQuotasRequest) (*arcapb.ListQuotasResponse, error) {
	qs, err := s.zone.ListQuotas(ctx, caller(ctx), req.All)
	if err != nil {
		return nil, err
	}
	out := &arcapb.ListQuotasResponse{}
	for _, q := range qs {
		out.Quotas = append(out.Quotas, quotaPB(q))
	}
	return out, nil
}
