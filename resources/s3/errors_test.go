package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/arca-data/arca/resources"
)

func TestMapErr(t *testing.T) {
	resp := func(code string, status int) error {
		return fmt.Errorf("wrapped: %w", minio.ErrorResponse{Code: code, StatusCode: status})
	}
	cases := []struct {
		err  error
		want error
	}{
		{resp("NoSuchKey", 404), resources.ErrNotFound},
		{resp("NoSuchBucket", 404), resources.ErrUnavailable},
		{resp("", 404), resources.ErrNotFound},
		{resp("AccessDenied", 403), resources.ErrPermission},
		{resp("InvalidAccessKeyId", 403), resources.ErrPermission},
		{resp("SignatureDoesNotMatch", 403), resources.ErrPermission},
		{resp("", 401), resources.ErrPermission},
		{resp("SlowDown", 503), resources.ErrUnavailable},
		{resp("InternalError", 500), resources.ErrUnavailable},
		{resp("XMinioServerNotInitialized", 503), resources.ErrUnavailable},
		{resp("", 502), resources.ErrUnavailable},
		{resp("", 429), resources.ErrUnavailable},
		{resp("PreconditionFailed", 412), resources.ErrExists},
		{&url.Error{Op: "Put", URL: "http://x", Err: syscall.ECONNREFUSED}, resources.ErrUnavailable},
		{&net.OpError{Op: "dial", Err: syscall.ECONNRESET}, resources.ErrUnavailable},
		{io.ErrUnexpectedEOF, resources.ErrUnavailable},
	}
	for _, tc := range cases {
		if got := mapErr(tc.err); !errors.Is(got, tc.want) {
			t.Errorf("mapErr(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	for _, err := range []error{context.Canceled, context.DeadlineExceeded, resp("InvalidArgument", 400)} {
		got := mapErr(err)
		for _, s := range []error{resources.ErrNotFound, resources.ErrPermission, resources.ErrUnavailable} {
			if errors.Is(got, s) {
				t.Errorf("mapErr(%v) = %v: classified as %v", err, got, s)
			}
		}
	}
	if mapErr(nil) != nil {
		t.Errorf("mapErr(nil) != nil")
	}
}
