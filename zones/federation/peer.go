package federation

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/zones"
)

// ErrUntrusted is a peer that is not a server of a zone registered here.
var ErrUntrusted = errors.New("not a trusted zone")

// Registry looks up a registered zone by name.
type Registry func(ctx context.Context, name string) (zones.RemoteZone, error)

// VerifyPeer decides whether the certificate chain a server presented
// (leaf first) is that of a server of a zone registered here: the leaf
// names the zone (tlsca.ZoneURI), the zone is registered, and the chain
// leads to the CA registered for that zone, not another's. It returns the
// zone's name. A zone's CA cannot vouch for another zone's name.
func VerifyPeer(ctx context.Context, chain []*x509.Certificate, registry Registry) (string, error) {
	if len(chain) == 0 {
		return "", fmt.Errorf("%w: the peer presented no certificate", ErrUntrusted)
	}
	leaf := chain[0]
	name := tlsca.ZoneOf(leaf)
	if name == "" {
		return "", fmt.Errorf("%w: the certificate of %q names no zone", ErrUntrusted, leaf.Subject.String())
	}
	rz, err := registry(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return "", fmt.Errorf("%w: zone %s is not registered here (iadmin mkzone)", ErrUntrusted, name)
	}
	if err != nil {
		return "", err
	}
	cas, err := zones.ParseZoneCA([]byte(rz.CAPEM))
	if err != nil {
		return "", fmt.Errorf("zone %s: %w", name, err)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range cas {
		roots.AddCert(c)
	}
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return "", fmt.Errorf("%w: the certificate naming zone %s is not signed by the CA registered for it: %v", ErrUntrusted, name, err)
	}
	return name, nil
}
