// Package federation is the transport between zones: the trust in another
// zone's servers (the CA registered with iadmin mkzone), and, as it grows,
// mutual TLS between servers and the routing of /otherZone/ paths.
package federation

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/arca-data/arca/zones"
)

// ProbeTimeout bounds a probe of a zone.
const ProbeTimeout = 3 * time.Second

// Probe dials a server of rz and completes a TLS handshake that accepts
// only a certificate chaining to rz's registered CA: the zone is reachable
// and is who its registration says.
func Probe(ctx context.Context, rz zones.RemoteZone) error {
	cas, err := zones.ParseZoneCA([]byte(rz.CAPEM))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c)
	}
	host, _, err := net.SplitHostPort(rz.Conn)
	if err != nil {
		return fmt.Errorf("zone %s: connection %q: %w", rz.Name, rz.Conn, err)
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2"}}}
	conn, err := d.DialContext(ctx, "tcp", rz.Conn)
	if err != nil {
		return fmt.Errorf("zone %s at %s: %w", rz.Name, rz.Conn, err)
	}
	return conn.Close()
}
