package icommands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/arca-data/arca/api/arcapb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Exit statuses, the same for every icommand (DESIGN.md §3).
const (
	ExitOK         = 0
	ExitFailure    = 1
	ExitUsage      = 2
	ExitNotFound   = 3
	ExitPermission = 4
	ExitPolicy     = 5
)

// exitHelp goes at the end of every command's help.
const exitHelp = `
Exit status: 0 success, 1 failure, 2 usage error, 3 not found,
4 permission denied, 5 denied by a policy rule or a retention lock.`

// usageError is a mistake in the command line: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError carries an explicit exit status.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// exitCode is the one table from errors to exit statuses.
func exitCode(err error) int {
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, errLocalNotFound):
		return ExitNotFound
	case errors.Is(err, errLocalPermission), errors.Is(err, errNoEnvironment):
		// Not logged in at all is refused like a session that has ended.
		return ExitPermission
	}
	st, ok := status.FromError(unwrapStatus(err))
	if !ok {
		return ExitFailure
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Reason == arcapb.PolicyReason {
			return ExitPolicy
		}
	}
	switch st.Code() {
	case codes.NotFound:
		return ExitNotFound
	case codes.PermissionDenied, codes.Unauthenticated:
		return ExitPermission
	}
	return ExitFailure
}

// unwrapStatus finds a gRPC status error inside a wrapped error.
func unwrapStatus(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if _, ok := status.FromError(e); ok {
			if _, isStatus := e.(interface{ GRPCStatus() *status.Status }); isStatus {
				return e
			}
		}
	}
	return err
}

// message renders err for a person: the server's words without gRPC's
// "rpc error: code = ... desc =" wrapping.
// Oversized input that the message repeats is cut (clipMessage).
func message(err error) string {
	return clipMessage(fullMessage(err))
}

func fullMessage(err error) string {
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	if s := unwrapStatus(err); s != err {
		st, _ := status.FromError(s)
		return strings.Replace(err.Error(), s.Error(), st.Message(), 1)
	}
	if st, ok := status.FromError(err); ok {
		return st.Message()
	}
	return err.Error()
}

// eachPath runs do for every path argument of the command name, as rm does
// with its operands: one that fails does not keep the others. With one
// path its error is the result; with several each failure is printed as
// it happens, and the result says that some could not be done (the past
// participle done, as "removed"), with the exit status of the first.
func eachPath(a *app, name, done string, paths []string, do func(path string) error) error {
	var first error
	for _, p := range paths {
		err := do(p)
		if err == nil {
			continue
		}
		if len(paths) > 1 {
			fmt.Fprintf(a.Err, "%s: %s\n", name, message(err))
		}
		if first == nil {
			first = err
		}
	}
	if first != nil && len(paths) > 1 {
		return exitError{code: exitCode(first), err: fmt.Errorf("some paths could not be %s", done)}
	}
	return first
}
