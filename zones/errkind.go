package zones

import (
	"context"
	"errors"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
)

// ErrorKind is what kind of failure an error is. Each transport maps kinds
// to its own codes in one table (gRPC codes in zones/rpc, HTTP statuses in
// zones/httpapi); which error is which kind is decided here, once.
type ErrorKind int

// The kinds of failure, as a caller can act on them.
const (
	KindInternal        ErrorKind = iota // a fault of the server
	KindUnauthenticated                  // no valid session or password
	KindDenied                           // a policy rule said no (see rules.Denial)
	KindPermission                       // the ACLs do not allow it
	KindQuota                            // a quota would be exceeded
	KindNotFound
	KindExists
	KindInvalid      // the request itself is wrong
	KindPrecondition // the state does not allow it: not empty, not a collection, ...
	KindLocked       // another writer holds it
	KindConflict     // a concurrent change won
	KindDataLoss     // bytes do not match their checksum
	KindUnavailable  // storage or a directory is down, or a recall is under way
	KindCanceled
	KindDeadline
	KindRetained // a retention lock or legal hold refused it (catalog.LockError)
)

var kindNames = [...]string{
	KindInternal: "internal", KindUnauthenticated: "unauthenticated", KindDenied: "denied_by_rule",
	KindPermission: "permission_denied", KindQuota: "quota_exceeded", KindNotFound: "not_found",
	KindExists: "already_exists", KindInvalid: "invalid_argument", KindPrecondition: "failed_precondition",
	KindLocked: "locked", KindConflict: "conflict", KindDataLoss: "data_loss", KindUnavailable: "unavailable",
	KindCanceled: "canceled", KindDeadline: "deadline_exceeded", KindRetained: "retained",
}

// String is the kind's stable name, which transports may show callers.
func (k ErrorKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "internal"
}

// KindedError is an error that says its own kind: errors of packages above
// the zone (an unavailable LDAP directory in zones/auth) implement it.
type KindedError interface {
	error
	ErrorKind() ErrorKind
}

// errorKinds is the one table from domain errors to kinds. The first match
// wins, so more specific errors come first.
var errorKinds = []struct {
	err  error
	kind ErrorKind
}{
	{ErrUnauthenticated, KindUnauthenticated},
	{rules.ErrDenied, KindDenied},
	{catalog.ErrRetained, KindRetained},
	{catalog.ErrPermission, KindPermission},
	{catalog.ErrQuotaExceeded, KindQuota},
	{resources.ErrPermission, KindPermission},
	{catalog.ErrNotFound, KindNotFound},
	{resources.ErrNotFound, KindNotFound},
	{catalog.ErrExists, KindExists},
	{resources.ErrExists, KindExists},
	{catalog.ErrInvalidName, KindInvalid},
	{catalog.ErrInvalidArgument, KindInvalid},
	{resources.ErrInvalidKey, KindInvalid},
	{catalog.ErrNotEmpty, KindPrecondition},
	{catalog.ErrNotCollection, KindPrecondition},
	{catalog.ErrNotDataObject, KindPrecondition},
	{catalog.ErrLocked, KindLocked},
	{catalog.ErrConflict, KindConflict},
	{ErrChecksumMismatch, KindDataLoss},
	{resources.ErrCorrupt, KindDataLoss},
	{resources.ErrStaging, KindUnavailable},
	{resources.ErrUnavailable, KindUnavailable},
	{context.Canceled, KindCanceled},
	{context.DeadlineExceeded, KindDeadline},
}

// KindOf says what kind of failure err is; nil and unknown errors are
// KindInternal.
func KindOf(err error) ErrorKind {
	if err == nil {
		return KindInternal
	}
	var k KindedError
	if errors.As(err, &k) {
		return k.ErrorKind()
	}
	for _, e := range errorKinds {
		if errors.Is(err, e.err) {
			return e.kind
		}
	}
	return KindInternal
}
