// Package tlsca makes and loads a zone's TLS files: its own CA, a server
// certificate it signs, and the client configuration that trusts that CA.
package tlsca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TLS files under DIR/tls. ca.pem is what clients trust.
const (
	CACertFile     = "ca.pem"
	caKeyFile      = "ca-key.pem"
	serverCertFile = "server.pem"
	serverKeyFile  = "server-key.pem"
)

// LoadOrCreate returns the server's TLS configuration, creating the zone's
// CA and a server certificate for hosts on the first start.
func LoadOrCreate(dir string, hosts []string) (*tls.Config, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tls directory: %w", err)
	}
	certPath, keyPath := filepath.Join(dir, serverCertFile), filepath.Join(dir, serverKeyFile)
	if _, err := os.Stat(certPath); errors.Is(err, fs.ErrNotExist) {
		if err := CreateCertificates(dir, hosts); err != nil {
			return nil, err
		}
	}
	for _, key := range []string{keyPath, filepath.Join(dir, caKeyFile)} {
		fi, err := os.Stat(key)
		if err != nil {
			return nil, fmt.Errorf("tls key: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("tls key %s has mode %v: it must not be readable by group or others (chmod 600)", key, fi.Mode().Perm())
		}
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("load server certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func CreateCertificates(dir string, hosts []string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "Arca zone CA", Organization: []string{"Arca"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("create CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "Arca zone server", Organization: []string{"Arca"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	seen := map[string]bool{}
	for _, h := range append([]string{"localhost", "127.0.0.1", "::1"}, hosts...) {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			srvTmpl.IPAddresses = append(srvTmpl.IPAddresses, ip)
		} else {
			srvTmpl.DNSNames = append(srvTmpl.DNSNames, h)
		}
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("create server certificate: %w", err)
	}
	if err := writePEM(filepath.Join(dir, caKeyFile), "EC PRIVATE KEY", mustMarshalKey(caKey), 0o600); err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, serverKeyFile), "EC PRIVATE KEY", mustMarshalKey(srvKey), 0o600); err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, CACertFile), "CERTIFICATE", caDER, 0o644); err != nil {
		return err
	}
	// The server certificate is written last: its presence means all is there.
	return writePEM(filepath.Join(dir, serverCertFile), "CERTIFICATE", srvDER, 0o644)
}

func mustMarshalKey(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err) // only fails for unsupported curves
	}
	return der
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ClientTLS returns a client TLS configuration that trusts only the CA in caFile.
func ClientTLS(caFile, serverName string) (*tls.Config, error) {
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}, nil
}

// Files of the zone's certificate-signing key (policies/certificates),
// under DIR/tls beside the CA that issues its certificate.
const (
	SigningCertFile = "cert-signing.pem"
	signingKeyFile  = "cert-signing-key.pem"
)

// LoadOrCreateSigner returns the zone's certificate-signing key and its
// certificate chain (the signing certificate, then the CA's), creating the
// key and a certificate issued by the zone's CA in dir when they are
// missing. The CA must exist (LoadOrCreate makes it); the key is 0600.
func LoadOrCreateSigner(dir, zone string) (*ecdsa.PrivateKey, []*x509.Certificate, error) {
	caCert, err := readCert(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, nil, err
	}
	certPath, keyPath := filepath.Join(dir, SigningCertFile), filepath.Join(dir, signingKeyFile)
	if _, err := os.Stat(certPath); errors.Is(err, fs.ErrNotExist) {
		if err := createSigner(dir, zone, caCert); err != nil {
			return nil, nil, err
		}
	}
	fi, err := os.Stat(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate-signing key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, nil, fmt.Errorf("certificate-signing key %s has mode %v: it must not be readable by group or others (chmod 600)", keyPath, fi.Mode().Perm())
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate-signing key: %w", err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, fmt.Errorf("certificate-signing key %s: no PEM block", keyPath)
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate-signing key %s: %w", keyPath, err)
	}
	cert, err := readCert(certPath)
	if err != nil {
		return nil, nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("certificate-signing key %s does not match %s", keyPath, certPath)
	}
	return key, []*x509.Certificate{cert, caCert}, nil
}

func createSigner(dir, zone string, caCert *x509.Certificate) error {
	tmpl := &x509.Certificate{
		Subject:  pkix.Name{CommonName: "Arca zone " + zone + " certificate signing", Organization: []string{"Arca"}},
		NotAfter: caCert.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	return issueLeaf(dir, tmpl, SigningCertFile, signingKeyFile)
}

// issueLeaf signs tmpl (its serial and start filled in here) with the
// zone's CA in dir for a new key, and writes the key (0600), then the
// certificate: the certificate's presence means both are there.
func issueLeaf(dir string, tmpl *x509.Certificate, certFile, keyFile string) error {
	caCert, caKey, err := loadCA(dir)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl.SerialNumber = randomSerial()
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("create %s: %w", certFile, err)
	}
	if err := writePEM(filepath.Join(dir, keyFile), "EC PRIVATE KEY", mustMarshalKey(key), 0o600); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, certFile), "CERTIFICATE", der, 0o644)
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
