package zones

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
)

// RemoteZone is another zone this one federates with (iadmin mkzone): where
// its servers listen and the CA that signs their certificates. Trust is
// by certificate, not by a shared secret: a server of the zone is one that
// presents a certificate from CA naming the zone (zones/federation).
type RemoteZone struct {
	Name    string `json:"name"`
	Conn    string `json:"conn"`   // host:port of one of its servers
	CAPEM   string `json:"ca_pem"` // the CA certificate(s), PEM
	Comment string `json:"comment,omitempty"`
	// Removed marks a zone that rmzone took away; its record stays, as
	// every catalog record does.
	Removed    bool      `json:"removed,omitempty"`
	CreateTime time.Time `json:"-"`
	ModifyTime time.Time `json:"-"`
}

// remoteZoneKind is the catalog record kind of the zone registry.
const remoteZoneKind = "zone"

// CheckRemoteZoneName checks the name of a zone to federate with: the
// rules of a zone name (a path component, no '#'), not this zone's own.
func (z *Zone) CheckRemoteZoneName(name string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: zone name %q: %s", catalog.ErrInvalidArgument, name, fmt.Sprintf(format, args...))
	}
	switch {
	case name == "":
		return bad("empty")
	case len(name) > 63:
		return bad("longer than 63 characters")
	case name == z.name:
		return bad("that is this zone; a zone does not register itself")
	case strings.ContainsAny(name, "/#"):
		return bad("a zone name holds no '/' or '#'")
	case name == "." || name == "..":
		return bad("not a name")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return bad("letters, digits, '-', '_' and '.' only")
		}
	}
	return nil
}

// checkConn checks host:port.
func checkConn(conn string) error {
	host, port, err := net.SplitHostPort(conn)
	if err != nil || host == "" {
		return fmt.Errorf("%w: connection %q: want HOST:PORT", catalog.ErrInvalidArgument, conn)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%w: connection %q: port from 1 to 65535", catalog.ErrInvalidArgument, conn)
	}
	return nil
}

// ParseZoneCA reads the CA certificates of a zone from PEM: at least one,
// every one a CA (basic constraints, allowed to sign certificates), not
// expired.
func ParseZoneCA(pemData []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := pemData
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: CA file: a %s block, want CERTIFICATE (never a key)", catalog.ErrInvalidArgument, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: CA file: %v", catalog.ErrInvalidArgument, err)
		}
		if !c.IsCA || !c.BasicConstraintsValid || c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
			return nil, fmt.Errorf("%w: CA file: the certificate of %q is not a CA (it may not sign certificates)", catalog.ErrInvalidArgument, c.Subject.String())
		}
		if time.Now().After(c.NotAfter) {
			return nil, fmt.Errorf("%w: CA file: the certificate of %q expired on %s", catalog.ErrInvalidArgument, c.Subject.String(), c.NotAfter.Format(time.DateOnly))
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: CA file: no PEM certificate in it", catalog.ErrInvalidArgument)
	}
	return certs, nil
}

func recordToZone(r catalog.Record) (RemoteZone, error) {
	var rz RemoteZone
	if err := json.Unmarshal(r.Doc, &rz); err != nil {
		return rz, fmt.Errorf("zone record %s: %w", r.Key, err)
	}
	rz.CreateTime, rz.ModifyTime = r.CreateTime, r.ModifyTime
	return rz, nil
}

// MakeRemoteZone is iadmin mkzone NAME remote HOST:PORT --ca FILE: it
// registers another zone and the CA of its servers. The name may not be
// this zone's, nor that of a collection at the top of this zone's
// namespace.
func (z *Zone) MakeRemoteZone(ctx context.Context, caller Principal, rz RemoteZone) (RemoteZone, error) {
	var out RemoteZone
	err := z.do(ctx, &Op{Name: OpZoneCreate, Caller: caller}, func(ctx context.Context) error {
		if err := z.CheckRemoteZoneName(rz.Name); err != nil {
			return err
		}
		if err := checkConn(rz.Conn); err != nil {
			return err
		}
		if _, err := ParseZoneCA([]byte(rz.CAPEM)); err != nil {
			return err
		}
		if _, err := z.cat.Stat(ctx, catalog.MustPath("/"+rz.Name)); err == nil {
			return fmt.Errorf("%w: zone name %q: /%s is a collection of this catalog", catalog.ErrExists, rz.Name, rz.Name)
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		rz.Removed = false
		doc, err := json.Marshal(rz)
		if err != nil {
			return err
		}
		rec, err := z.cat.CreateRecord(ctx, catalog.Record{Kind: remoteZoneKind, Key: rz.Name, Owner: caller.UserID(), Doc: doc})
		if errors.Is(err, catalog.ErrExists) {
			// Registered before: again only if it was removed.
			old, rerr := z.cat.Record(ctx, remoteZoneKind, rz.Name)
			if rerr != nil {
				return rerr
			}
			prev, rerr := recordToZone(old)
			if rerr != nil {
				return rerr
			}
			if !prev.Removed {
				return fmt.Errorf("zone %s: %w (iadmin modzone changes it)", rz.Name, catalog.ErrExists)
			}
			old.Doc, old.Owner = doc, caller.UserID()
			rec, err = z.cat.UpdateRecord(ctx, old)
		}
		if err != nil {
			return err
		}
		out, err = recordToZone(rec)
		return err
	})
	return out, err
}

// RemoteZone returns the registered zone name.
func (z *Zone) remoteZone(ctx context.Context, name string) (catalog.Record, RemoteZone, error) {
	rec, err := z.cat.Record(ctx, remoteZoneKind, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return rec, RemoteZone{}, fmt.Errorf("zone %s: %w", name, catalog.ErrNotFound)
	}
	if err != nil {
		return rec, RemoteZone{}, err
	}
	rz, err := recordToZone(rec)
	if err == nil && rz.Removed {
		err = fmt.Errorf("zone %s: %w", name, catalog.ErrNotFound)
	}
	return rec, rz, err
}

// ModifyRemoteZone is iadmin modzone NAME conn|ca|comment VALUE (ca: the
// PEM of the CA file).
func (z *Zone) ModifyRemoteZone(ctx context.Context, caller Principal, name, field, value string) (RemoteZone, error) {
	var out RemoteZone
	err := z.do(ctx, &Op{Name: OpZoneModify, Caller: caller}, func(ctx context.Context) error {
		rec, rz, err := z.remoteZone(ctx, name)
		if err != nil {
			return err
		}
		switch field {
		case "conn":
			if err := checkConn(value); err != nil {
				return err
			}
			rz.Conn = value
		case "ca":
			if _, err := ParseZoneCA([]byte(value)); err != nil {
				return err
			}
			rz.CAPEM = value
		case "comment":
			rz.Comment = value
		default:
			return fmt.Errorf("%w: cannot modify %q of a zone (want conn, ca or comment)", catalog.ErrInvalidArgument, field)
		}
		if rec.Doc, err = json.Marshal(rz); err != nil {
			return err
		}
		if rec, err = z.cat.UpdateRecord(ctx, rec); err != nil {
			return err
		}
		out, err = recordToZone(rec)
		return err
	})
	return out, err
}

// RemoveRemoteZone is iadmin rmzone NAME.
func (z *Zone) RemoveRemoteZone(ctx context.Context, caller Principal, name string) error {
	return z.do(ctx, &Op{Name: OpZoneRemove, Caller: caller}, func(ctx context.Context) error {
		rec, rz, err := z.remoteZone(ctx, name)
		if err != nil {
			return err
		}
		rz.Removed = true
		if rec.Doc, err = json.Marshal(rz); err != nil {
			return err
		}
		_, err = z.cat.UpdateRecord(ctx, rec)
		return err
	})
}

// RemoteZones is iadmin lz: the registered zones, by name.
func (z *Zone) RemoteZones(ctx context.Context, caller Principal) ([]RemoteZone, error) {
	var out []RemoteZone
	err := z.do(ctx, &Op{Name: OpZoneList, Caller: caller}, func(ctx context.Context) error {
		for after := ""; ; {
			recs, err := z.cat.ListRecords(ctx, remoteZoneKind, after, 100)
			if err != nil {
				return err
			}
			for _, r := range recs {
				rz, err := recordToZone(r)
				if err != nil {
					return err
				}
				if !rz.Removed {
					out = append(out, rz)
				}
				after = r.Key
			}
			if len(recs) < 100 {
				return nil
			}
		}
	})
	return out, err
}
