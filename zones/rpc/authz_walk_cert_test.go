package rpc

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/api/certificate"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/policies/certificates"
	"github.com/arca-data/arca/zones"
)

// The walk's cases of preservation certificates (certificate.proto), and
// the keeper its zone needs for them: signed with a key from the walk
// zone's own CA, no steward group (rodsadmin only).

func (c *walkClient) certs() arcapb.CertificatesClient { return arcapb.NewCertificatesClient(c.conn) }

func installCertificates(t *testing.T, z *zones.Zone, cat *sqlite.Catalog, tlsDir string) {
	t.Helper()
	key, chain, err := tlsca.LoadOrCreateSigner(tlsDir, z.Name())
	if err != nil {
		t.Fatal(err)
	}
	s, err := certificate.NewSigner(key, chain[:1])
	if err != nil {
		t.Fatal(err)
	}
	z.UseCertificates(certificates.NewKeeper(cat, s, certificates.Config{Zone: z.Name(), Logger: slog.New(slog.DiscardHandler)}))
}

func certificateWalkCases() []walkCase {
	rodsM := func(c *walkClient) zones.Principal { return zones.As(c.env.user(zones.DefaultAdmin)) }
	return []walkCase{
		// Issuing is for rodsadmin (or a steward group, none here), who
		// must read the whole subject: rods needs -M on alice's data.
		{method: arcapb.Certificates_Issue_FullMethodName, allow: adminOnly, needsM: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.certs().Issue(ctx, &arcapb.IssueCertificateRequest{Path: f.coll}, c.opts()...))
			}},
		{method: arcapb.Certificates_List_FullMethodName, allow: collAtLeast(catalog.AccessRead), adminReads: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.certs().List(ctx, &arcapb.ListCertificatesRequest{Path: f.coll}, c.opts()...)
				return err
			}},
		{method: arcapb.Certificates_Show_FullMethodName, allow: objAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				cert, err := c.env.zone.IssueCertificate(ctx, rodsM(c), catalog.MustPath(f.obj))
				if err != nil {
					return err
				}
				return drain(c.certs().Show(ctx, &arcapb.ShowCertificateRequest{Id: cert.ID}, c.opts()...))
			}},
		// Reading every replica from storage is the administrators'; rods
		// without -M checks what its ACLs let it read (here nothing).
		{method: arcapb.Certificates_CheckFixity_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.certs().CheckFixity(ctx, &arcapb.CheckFixityRequest{Path: f.coll, MaxAge: "1y"}, c.opts()...))
			}},
	}
}

// walkTLSDir is where the walk's zone keeps its TLS files.
func walkTLSDir(dir string) string { return filepath.Join(dir, "tls") }
