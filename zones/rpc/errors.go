package rpc

import (
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// errorCodes is the one table that turns kinds of domain errors (see
// zones.KindOf, which decides which error is which kind) into gRPC status
// codes.
var errorCodes = map[zones.ErrorKind]codes.Code{
	zones.KindInternal:        codes.Internal,
	zones.KindUnauthenticated: codes.Unauthenticated,
	zones.KindDenied:          codes.PermissionDenied,
	zones.KindPermission:      codes.PermissionDenied,
	zones.KindQuota:           codes.ResourceExhausted,
	zones.KindNotFound:        codes.NotFound,
	zones.KindExists:          codes.AlreadyExists,
	zones.KindInvalid:         codes.InvalidArgument,
	zones.KindPrecondition:    codes.FailedPrecondition,
	zones.KindLocked:          codes.Aborted,
	zones.KindRetained:        codes.PermissionDenied, // with the ErrorInfo of a policy (toStatus)
	zones.KindConflict:        codes.Aborted,
	zones.KindDataLoss:        codes.DataLoss,
	zones.KindUnavailable:     codes.Unavailable,
	zones.KindCanceled:        codes.Canceled,
	zones.KindDeadline:        codes.DeadlineExceeded,
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
	code, ok := errorCodes[zones.KindOf(err)]
	if !ok {
		code = codes.Internal
	}
	return status.Error(code, err.Error())
}
