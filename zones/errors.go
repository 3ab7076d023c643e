package zones

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
)

// errorCodes is the one table that turns domain errors into gRPC status
// codes. The first match wins, so more specific errors come first.
var errorCodes = []struct {
	err  error
	code codes.Code
}{
	{ErrUnauthenticated, codes.Unauthenticated},
	{ErrDirectoryUnavailable, codes.Unavailable},
	{catalog.ErrPermission, codes.PermissionDenied},
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
	{ErrChecksumMismatch, codes.DataLoss},
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
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return status.Error(e.code, err.Error())
		}
	}
	return status.Error(codes.Internal, err.Error())
}
