package rpc

import (
	"context"

	"time"

	"google.golang.org/grpc"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// certificateService is the gRPC face of preservation certificates
// (api/arca/v1/certificate.proto, zones/certificates.go).
type certificateService struct {
	arcapb.UnimplementedCertificatesServer
	zone *zones.Zone
}

func certificatePB(c zones.Certificate) *arcapb.CertificateInfo {
	out := &arcapb.CertificateInfo{Id: c.ID, Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		Objects: int64(c.Objects), Bytes: c.Bytes, SupersededBy: c.SupersededBy}
	if !c.IssuedAt.IsZero() {
		out.IssuedUnix = c.IssuedAt.Unix()
	}
	return out
}

// sendCertificate streams c's info and its file in pieces.
func sendCertificate(c zones.Certificate, stream grpc.ServerStreamingServer[arcapb.CertificateChunk]) error {
	file := c.File
	msg := &arcapb.CertificateChunk{Info: certificatePB(c)}
	for first := true; first || len(file) > 0; first = false {
		n := min(len(file), exportChunk)
		msg.Data = file[:n]
		if err := stream.Send(msg); err != nil {
			return err
		}
		file = file[n:]
		msg = &arcapb.CertificateChunk{}
	}
	return nil
}

func (s *certificateService) Issue(req *arcapb.IssueCertificateRequest, stream grpc.ServerStreamingServer[arcapb.CertificateChunk]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	c, err := s.zone.IssueCertificate(ctx, caller(ctx), p)
	if err != nil {
		return err
	}
	return sendCertificate(c, stream)
}

func (s *certificateService) Show(req *arcapb.ShowCertificateRequest, stream grpc.ServerStreamingServer[arcapb.CertificateChunk]) error {
	ctx := stream.Context()
	c, err := s.zone.ShowCertificate(ctx, caller(ctx), req.Id)
	if err != nil {
		return err
	}
	return sendCertificate(c, stream)
}

func (s *certificateService) List(ctx context.Context, req *arcapb.ListCertificatesRequest) (*arcapb.ListCertificatesResponse, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	cs, err := s.zone.ListCertificates(ctx, caller(ctx), p)
	if err != nil {
		return nil, err
	}
	out := &arcapb.ListCertificatesResponse{}
	for _, c := range cs {
		out.Certificates = append(out.Certificates, certificatePB(c))
	}
	return out, nil
}

func (s *certificateService) CheckFixity(req *arcapb.CheckFixityRequest, stream grpc.ServerStreamingServer[arcapb.FixityCheck]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	fr := zones.FixityRequest{Path: p, Repair: req.Repair}
	if req.MaxAge != "" {
		period, err := catalog.ParsePeriod(req.MaxAge)
		if err != nil {
			return err
		}
		now := time.Now()
		fr.MaxAge = period.From(now).Sub(now)
	}
	return s.zone.CheckFixity(ctx, caller(ctx), fr, func(c zones.FixityCheck) error {
		return stream.Send(&arcapb.FixityCheck{Path: c.Path, Replica: int64(c.Replica), Resource: c.Resource, TimeUnix: c.Time.Unix(),
			Outcome: c.Outcome, Detail: c.Detail, Repair: c.Repair})
	})
}
