package rpc

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/federation"
)

// zonesService is the registry of federated zones.
type zonesService struct {
	arcapb.UnimplementedZonesServer
	zone *zones.Zone
}

func zonePB(rz zones.RemoteZone) *arcapb.ZoneInfo {
	out := &arcapb.ZoneInfo{Name: rz.Name, Type: "remote", Conn: rz.Conn, CaPem: rz.CAPEM, Comment: rz.Comment,
		CreateTime: rz.CreateTime.UTC().Format(time.RFC3339), ModifyTime: rz.ModifyTime.UTC().Format(time.RFC3339)}
	if cas, err := zones.ParseZoneCA([]byte(rz.CAPEM)); err == nil {
		out.CaSubject = subjects(cas)
	}
	return out
}

func subjects(cas []*x509.Certificate) string {
	s := ""
	for i, c := range cas {
		if i > 0 {
			s += "; "
		}
		s += c.Subject.String()
	}
	return s
}

func (s *zonesService) MakeZone(ctx context.Context, req *arcapb.MakeZoneRequest) (*arcapb.ZoneInfo, error) {
	rz, err := s.zone.MakeRemoteZone(ctx, caller(ctx), zones.RemoteZone{Name: req.Name, Conn: req.Conn, CAPEM: req.CaPem, Comment: req.Comment})
	if err != nil {
		return nil, err
	}
	return zonePB(rz), nil
}

func (s *zonesService) ModifyZone(ctx context.Context, req *arcapb.ModifyZoneRequest) (*arcapb.ZoneInfo, error) {
	rz, err := s.zone.ModifyRemoteZone(ctx, caller(ctx), req.Name, req.Field, req.Value)
	if err != nil {
		return nil, err
	}
	return zonePB(rz), nil
}

func (s *zonesService) RemoveZone(ctx context.Context, req *arcapb.RemoveZoneRequest) (*arcapb.RemoveZoneResponse, error) {
	if err := s.zone.RemoveRemoteZone(ctx, caller(ctx), req.Name); err != nil {
		return nil, err
	}
	return &arcapb.RemoveZoneResponse{}, nil
}

func (s *zonesService) ListZones(ctx context.Context, req *arcapb.ListZonesRequest) (*arcapb.ListZonesResponse, error) {
	rzs, err := s.zone.RemoteZones(ctx, caller(ctx))
	if err != nil {
		return nil, err
	}
	out := &arcapb.ListZonesResponse{Zones: []*arcapb.ZoneInfo{{Name: s.zone.Name(), Type: "local"}}}
	infos := make([]*arcapb.ZoneInfo, len(rzs))
	done := make(chan struct{}, len(rzs))
	for i, rz := range rzs {
		infos[i] = zonePB(rz)
		if !req.Probe {
			done <- struct{}{}
			continue
		}
		// Probed at once, so that lz of many zones, some down, takes one
		// timeout, not one each.
		go func() {
			defer func() { done <- struct{}{} }()
			infos[i].Probed = true
			if err := federation.Probe(ctx, rz); err != nil {
				infos[i].ReachError = err.Error()
			} else {
				infos[i].Reachable = true
			}
		}()
	}
	for range rzs {
		<-done
	}
	out.Zones = append(out.Zones, infos...)
	return out, nil
}
