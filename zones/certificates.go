package zones

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
)

// Preservation certificates are issued and kept by policies/certificates,
// which the composition root installs here (UseCertificates); the zone
// decides who may issue and see them, walks the subject and lends the
// keeper a reader of replicas, and asks it only through this interface.

// CertificateKeeper issues and keeps the zone's preservation
// certificates.
type CertificateKeeper interface {
	// Stewards is the group whose members may issue certificates beside
	// rodsadmin ("": none).
	Stewards() string
	// Issue certifies req.Subject and stores the certificate.
	Issue(ctx context.Context, req CertificateRequest) (Certificate, error)
	// List returns the certificates of subjects at or below p, newest
	// first, without their files.
	List(ctx context.Context, p catalog.Path) ([]Certificate, error)
	// Get returns a certificate with its file.
	Get(ctx context.Context, id string) (Certificate, error)
	// KeepDigests computes the second digest (SHA-512) of every object of
	// req that has none kept for its content, and keeps it, so that a
	// later certificate reads no data.
	KeepDigests(ctx context.Context, req CertificateRequest) error
}

// CertificateRequest is what the zone gives the keeper to certify.
type CertificateRequest struct {
	Subject catalog.Entry
	Issuer  catalog.UserID
	// Objects are the data objects certified: the subject, or every one
	// below the collection.
	Objects        []catalog.DataObject
	RuleSetVersion int64
	RuleSetDigest  string
	// QoS are the requirements that apply to the subject, each with its
	// status on it.
	QoS []QoSStatus
	// Read opens the bytes of obj's best good replica, for a digest the
	// catalog does not have yet.
	Read func(ctx context.Context, obj catalog.DataObject) (catalog.Replica, io.ReadCloser, error)
}

// Certificate is an issued certificate.
type Certificate struct {
	ID       string
	Subject  catalog.Path
	Issuer   catalog.UserID
	IssuedAt time.Time
	Objects  int
	Bytes    int64
	// SupersededBy is the certificate issued after this one for the same
	// subject ("" while it is the newest).
	SupersededBy string
	// File is the self-contained certificate file (nil in lists).
	File []byte
}

var errNoCertificates = fmt.Errorf("%w: this zone issues no certificates", resources.ErrUnavailable)

// UseCertificates makes k issue and keep the zone's certificates.
func (z *Zone) UseCertificates(k CertificateKeeper) { z.keep.certs = k }

// IssueCertificate certifies what is at p: the caller must be rodsadmin or
// a member of the keeper's steward group, and may read all of it.
func (z *Zone) IssueCertificate(ctx context.Context, caller Principal, p catalog.Path) (Certificate, error) {
	k := z.keep.certs
	op := &Op{Name: OpCertIssue, Caller: caller, Path: p, Recursive: true}
	if k != nil && k.Stewards() != "" {
		op.Group = catalog.UserID{Name: k.Stewards(), Zone: z.name}
	}
	var out Certificate
	err := z.do(ctx, op, func(ctx context.Context) error {
		if k == nil {
			return errNoCertificates
		}
		e, err := z.cat.Stat(ctx, p)
		if err != nil {
			return err
		}
		version, digest := z.RuleSetInUse()
		req := CertificateRequest{Subject: e, Issuer: caller.UserID(), RuleSetVersion: version, RuleSetDigest: digest,
			Read: func(ctx context.Context, obj catalog.DataObject) (catalog.Replica, io.ReadCloser, error) {
				_, rep, rc, err := z.openWith(ctx, obj.Path, OpenOptions{})
				return rep, rc, err
			}}
		err = z.eachObjectAt(ctx, caller, p, true, catalog.AccessRead, func(o catalog.DataObject) error {
			req.Objects = append(req.Objects, o)
			return nil
		})
		if err != nil {
			return err
		}
		if z.qos != nil {
			if req.QoS, err = z.qosStatuses(ctx, p, false); err != nil {
				return err
			}
		}
		out, err = k.Issue(ctx, req)
		return err
	})
	return out, err
}

// KeepDigestsByRule computes and keeps the SHA-512 of the data object at
// p, or of every one below the collection p, where none is kept for its
// content: a rule's certificate.digest (at ingest, when a collection's
// policy asks for it), acting as the zone.
func (z *Zone) KeepDigestsByRule(ctx context.Context, p catalog.Path) error {
	k := z.keep.certs
	if k == nil {
		return errNoCertificates
	}
	e, err := z.cat.Stat(ctx, p)
	if err != nil {
		return err
	}
	req := CertificateRequest{Subject: e,
		Read: func(ctx context.Context, obj catalog.DataObject) (catalog.Replica, io.ReadCloser, error) {
			_, rep, rc, err := z.openWith(ctx, obj.Path, OpenOptions{})
			return rep, rc, err
		}}
	if e.Object != nil {
		req.Objects = []catalog.DataObject{*e.Object}
	} else if err := z.objectsBelow(ctx, p, func(o catalog.DataObject) error {
		req.Objects = append(req.Objects, o)
		return nil
	}); err != nil {
		return err
	}
	return k.KeepDigests(ctx, req)
}

// ListCertificates lists the certificates of what is at or below p whose
// subject the caller may read (a rodsadmin sees them all, as ils shows it
// the whole namespace); a subject that is gone shows only to rodsadmin.
func (z *Zone) ListCertificates(ctx context.Context, caller Principal, p catalog.Path) ([]Certificate, error) {
	var out []Certificate
	err := z.do(ctx, &Op{Name: OpCertList, Caller: caller, Path: p}, func(ctx context.Context) error {
		if z.keep.certs == nil {
			return errNoCertificates
		}
		all, err := z.keep.certs.List(ctx, p)
		if err != nil || isAdmin(caller.User, z.name) {
			out = all
			return err
		}
		groups, err := z.groupsOf(ctx, caller.User)
		if err != nil {
			return err
		}
		for _, c := range all {
			e, err := z.cat.Stat(ctx, c.Subject)
			if err != nil {
				continue
			}
			acl := objectACL(e)
			if e.Collection != nil {
				acl = e.Collection.ACL
			}
			if accessOf(caller.User, groups, acl) >= catalog.AccessRead {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}

// ShowCertificate returns a certificate with its file, to whoever may
// read its subject.
func (z *Zone) ShowCertificate(ctx context.Context, caller Principal, id string) (Certificate, error) {
	if z.keep.certs == nil {
		return Certificate{}, errNoCertificates
	}
	c, err := z.keep.certs.Get(ctx, id)
	if err != nil {
		return Certificate{}, err
	}
	err = z.do(ctx, &Op{Name: OpCertShow, Caller: caller, Path: c.Subject}, func(context.Context) error { return nil })
	if err != nil {
		return Certificate{}, err
	}
	return c, nil
}

func objectACL(e catalog.Entry) []catalog.ACE {
	if e.Object != nil {
		return e.Object.ACL
	}
	return nil
}
