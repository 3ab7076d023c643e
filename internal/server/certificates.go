package server

import (
	"fmt"
	"path/filepath"

	"github.com/arca-data/arca/api/certificate"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/policies/certificates"
	"github.com/arca-data/arca/zones"
)

// CertificatesFile is the certificates section of the configuration file.
type CertificatesFile struct {
	// Organisation names the issuer in every certificate.
	Organisation string `yaml:"organisation,omitempty"`
	// Stewards is the group whose members may issue certificates beside
	// rodsadmin.
	Stewards string `yaml:"stewards,omitempty"`
}

// CertificatesConfig is how the zone issues preservation certificates.
type CertificatesConfig struct {
	Organisation string
	Stewards     string
}

func (c ConfigFile) certificates(sc *ServerConfig) {
	if f := c.Certificates; f != nil {
		sc.Certificates = CertificatesConfig{Organisation: f.Organisation, Stewards: f.Stewards}
	}
}

func (c ConfigFile) checkCertificates() error {
	if f := c.Certificates; f != nil && f.Stewards != "" {
		if err := catalog.ValidateUserName(f.Stewards); err != nil {
			return fmt.Errorf("certificates: stewards: %w", err)
		}
	}
	return nil
}

// startCertificates makes the zone issue preservation certificates,
// signed with its certificate-signing key: made from the zone's CA under
// DIR/tls on the first start that lacks it (the key 0600), reused after.
func startCertificates(cfg ServerConfig, dir string, zone *zones.Zone, cat catalog.Catalog) error {
	key, chain, err := tlsca.LoadOrCreateSigner(filepath.Join(dir, "tls"), zone.Name())
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	signer, err := certificate.NewSigner(key, chain[:1])
	if err != nil {
		return err
	}
	org := cfg.Certificates.Organisation
	if org == "" {
		org = "Arca zone " + zone.Name()
	}
	zone.UseCertificates(certificates.NewKeeper(cat, signer, certificates.Config{Zone: zone.Name(), Organisation: org,
		Stewards: cfg.Certificates.Stewards, Logger: cfg.Logger}))
	return nil
}
