package rpc

import (
	"context"
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
)

// errorCodes is the one table that turns domain errors into gRPC status
// codes. The first match wins, so more specific errors come first.
var errorCodes = []struct {
	err  error
	code codes.Code
}{
	{zones.ErrUnauthenticated, codes.Unauthenticated},
	{rules.ErrDenied, codes.PermissionDenied},
	{auth.ErrDirectoryUnavailable, codes.Unavailable},
	{catalog.ErrPermission, codes.PermissionDenied},
	{catalog.ErrQuotaExceeded, codes.ResourceExhausted},
	{resources.ErrPermission, codes.PermissionDenied},
	{catalog.ErrNotFound, codes.NotFound},
	{resources.ErrNotFound, codes.NotFound},
	{catalog.ErrExists, codes.AlreadyExists},
	{resources.ErrExists, codes.AlreadyExists},
	{catalog.ErrInvalidName, codes.InvalidArgument},
	{catalog.ErrInvalidArgument, codes.InvalidArgument},
	{resources.ErrInvalidKey, codes.InvalidArgument},
	{catalog.ErrNotEmpty, codes.FailedPrecondition},
	{catalog.ErrNotCollection, codes.FailedPrecondition},
	{catalog.ErrNotDataObject, codes.FailedPrecondition},
	{catalog.ErrLocked, codes.Aborted},
	{catalog.ErrConflict, codes.Aborted},
	{zones.ErrChecksumMismatch, codes.DataLoss},
	{resources.ErrCorrupt, codes.DataLoss},
	{resources.ErrStaging, codes.Unavailable},
	{resources.ErrUnavailable, codes.Unavailable},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// toStatus maps err through errorCodes; the message is the error's text,
// which names what was wrong.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var le *catalog.LockError
	if errors.As(err, &le) {
		// A retention lock or a legal hold refused it: a policy of the
		// zone, as a rule's denial is (exit status 5), naming the lock.
		md := map[string]string{"lock": le.Lock.Name(), "path": le.Path.String()}
		if !le.Lock.Until.IsZero() {
			md["until"] = le.Lock.Until.UTC().Format(time.RFC3339)
		}
		st, serr := status.New(codes.PermissionDenied, err.Error()).WithDetails(&errdetails.ErrorInfo{
			Reason: arcapb.PolicyReason, Domain: "arca", Metadata: md,
		})
		if serr == nil {
			return st.Err()
		}
	}
	var d *rules.Denial
	if errors.As(err, &d) {
		// The ErrorInfo tells the client it was a rule (exit status 5),
		// not an access control list (4).
		st, serr := status.New(codes.PermissionDenied, err.Error()).WithDetails(&errdetails.ErrorInfo{
			Reason: arcapb.PolicyReason, Domain: "arca", Metadata: map[string]string{"rule": d.Rule},
		})
		if serr == nil {
			return st.Err()
		}
	}
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return status.Error(e.code, err.Error())
		}
	}
	return status.Error(codes.Internal, err.Error())
}
