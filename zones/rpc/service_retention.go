package rpc

import (
	"fmt"
	"time"

	"google.golang.org/grpc"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// retentionService is the gRPC face of retention locks, legal holds and
// default retention (zones/retention.go).
type retentionService struct {
	arcapb.UnimplementedRetentionServer
	zone *zones.Zone
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func lockPB(p catalog.Path, l catalog.Lock) *arcapb.RetentionInfo {
	out := &arcapb.RetentionInfo{Path: p.String(), Mode: string(l.Mode), UntilUnixNano: unixNano(l.Until), Hold: l.Hold,
		SetUnixNano: unixNano(l.SetAt)}
	if l.SetBy.Name != "" {
		out.SetBy = l.SetBy.String()
	}
	return out
}

func defaultPB(c catalog.Collection) *arcapb.RetentionInfo {
	return &arcapb.RetentionInfo{Path: c.Path.String(), Collection: true,
		DefaultMode: string(c.Retention.Mode), DefaultPeriod: c.Retention.Period.String()}
}

// parseMode reads a mode where "" means none.
func parseMode(s string) (catalog.LockMode, error) {
	if s == "" {
		return catalog.LockNone, nil
	}
	return catalog.ParseLockMode(s)
}

func (s *retentionService) SetRetention(req *arcapb.SetRetentionRequest, stream grpc.ServerStreamingServer[arcapb.RetentionInfo]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	r := zones.RetentionRequest{Path: p, Recursive: req.Recursive, BypassGovernance: req.BypassGovernance}
	if r.Mode, err = parseMode(req.Mode); err != nil {
		return err
	}
	if req.Until != "" {
		if r.Until, err = catalog.ParseUntil(req.Until); err != nil {
			return err
		}
	}
	if req.Period != "" {
		if r.For, err = catalog.ParsePeriod(req.Period); err != nil {
			return err
		}
	}
	return s.zone.SetRetention(ctx, caller(ctx), r, func(ol catalog.ObjectLock) error {
		return stream.Send(lockPB(ol.Path, ol.Lock))
	})
}

func (s *retentionService) SetHold(req *arcapb.SetHoldRequest, stream grpc.ServerStreamingServer[arcapb.RetentionInfo]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	return s.zone.SetHold(ctx, caller(ctx), p, req.Hold, req.Recursive, func(ol catalog.ObjectLock) error {
		return stream.Send(lockPB(ol.Path, ol.Lock))
	})
}

func (s *retentionService) SetDefaultRetention(req *arcapb.SetDefaultRetentionRequest, stream grpc.ServerStreamingServer[arcapb.RetentionInfo]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	var d catalog.DefaultRetention
	if d.Mode, err = parseMode(req.Mode); err != nil {
		return err
	}
	switch {
	case d.Mode == catalog.LockNone && req.Period != "":
		return fmt.Errorf("%w: removing a default retention takes no period", catalog.ErrInvalidArgument)
	case d.Mode != catalog.LockNone:
		if d.Period, err = catalog.ParsePeriod(req.Period); err != nil {
			return err
		}
	}
	return s.zone.SetDefaultRetention(ctx, caller(ctx), p, d, req.Recursive, func(c catalog.Collection) error {
		return stream.Send(defaultPB(c))
	})
}

func (s *retentionService) ListRetention(req *arcapb.ListRetentionRequest, stream grpc.ServerStreamingServer[arcapb.ListRetentionResponse]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	return s.zone.ListRetention(ctx, caller(ctx), p, req.Recursive, func(page []catalog.Entry) error {
		out := &arcapb.ListRetentionResponse{}
		for _, e := range page {
			if e.Collection != nil {
				out.Entries = append(out.Entries, defaultPB(*e.Collection))
			} else {
				out.Entries = append(out.Entries, lockPB(e.Object.Path, e.Object.Lock))
			}
		}
		return stream.Send(out)
	})
}

func (s *retentionService) SetExpiry(req *arcapb.SetExpiryRequest, stream grpc.ServerStreamingServer[arcapb.RetentionInfo]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	r := zones.ExpiryRequest{Path: p, Clear: req.Clear}
	if req.At != "" {
		if r.At, err = catalog.ParseUntil(req.At); err != nil {
			return err
		}
	}
	if req.Period != "" {
		if r.After, err = catalog.ParsePeriod(req.Period); err != nil {
			return err
		}
	}
	return s.zone.SetExpiry(ctx, caller(ctx), r, func(e zones.Expiry) error {
		info := &arcapb.RetentionInfo{Path: e.Path.String(), Collection: e.Collection}
		if !e.At.IsZero() {
			info.ExpiresUnixNano = e.At.UnixNano()
		}
		return stream.Send(info)
	})
}
