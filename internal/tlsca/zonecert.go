package tlsca

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// The zone certificate: what a server of the zone presents to the servers
// of other zones, as client and as server, signed by the zone's CA and
// naming the zone (ZoneURI).
const (
	zoneCertFile = "zone.pem"
	zoneKeyFile  = "zone-key.pem"
)

// ZoneURI is the URI by which a certificate names its zone: arca:zone:NAME.
func ZoneURI(zone string) *url.URL { return &url.URL{Scheme: "arca", Opaque: "zone:" + zone} }

// ZoneOf returns the zone that cert names by its ZoneURI, "" when none; a
// certificate naming two zones names none.
func ZoneOf(cert *x509.Certificate) string {
	zone := ""
	for _, u := range cert.URIs {
		if u.Scheme != "arca" || len(u.Opaque) <= len("zone:") || u.Opaque[:len("zone:")] != "zone:" {
			continue
		}
		if zone != "" {
			return ""
		}
		zone = u.Opaque[len("zone:"):]
	}
	return zone
}

// LoadOrCreateZoneCert returns the zone certificate of the server whose
// TLS files are in dir, signing one for zone with the zone's CA on first
// use. A zone certificate naming another zone (the zone was renamed) is
// refused.
func LoadOrCreateZoneCert(dir, zone string) (tls.Certificate, error) {
	certPath, keyPath := filepath.Join(dir, zoneCertFile), filepath.Join(dir, zoneKeyFile)
	if _, err := os.Stat(certPath); errors.Is(err, fs.ErrNotExist) {
		if err := createZoneCert(dir, zone); err != nil {
			return tls.Certificate{}, err
		}
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return cert, fmt.Errorf("load zone certificate: %w", err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return cert, err
		}
	}
	if got := ZoneOf(cert.Leaf); got != zone {
		return cert, fmt.Errorf("zone certificate %s names zone %q, not %q: remove it to make a new one", certPath, got, zone)
	}
	return cert, nil
}

func createZoneCert(dir, zone string) error {
	return issueLeaf(dir, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "Arca zone " + zone, Organization: []string{"Arca"}},
		URIs:        []*url.URL{ZoneURI(zone)},
		NotAfter:    time.Now().AddDate(2, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}, zoneCertFile, zoneKeyFile)
}

// loadCA reads the zone's CA certificate and key from dir.
func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cert, err := readCert(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, nil, fmt.Errorf("zone CA: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, caKeyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("the zone CA's key (certificates of the zone are signed with it): %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, nil, fmt.Errorf("the zone CA's key in %s: no PEM block", dir)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("zone CA key: %w", err)
	}
	return cert, key, nil
}
