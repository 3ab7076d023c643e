package zones

import (
	"context"
	"fmt"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
)

type kinded struct{}

func (kinded) Error() string        { return "kinded" }
func (kinded) ErrorKind() ErrorKind { return KindUnavailable }

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want ErrorKind
	}{
		{nil, KindInternal},
		{fmt.Errorf("x"), KindInternal},
		{fmt.Errorf("stat /a: %w", catalog.ErrNotFound), KindNotFound},
		{&rules.Denial{Rule: "r", Message: "no"}, KindDenied},
		{fmt.Errorf("wrapped: %w", &rules.Denial{Rule: "r"}), KindDenied},
		{fmt.Errorf("%w", catalog.ErrLocked), KindLocked},
		{fmt.Errorf("%w: %w", ErrUnauthenticated, catalog.ErrNotFound), KindUnauthenticated},
		{fmt.Errorf("a: %w", kinded{}), KindUnavailable},
		{context.Canceled, KindCanceled},
	} {
		if got := KindOf(tc.err); got != tc.want {
			t.Errorf("KindOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	for k := KindInternal; k <= KindRetained; k++ {
		if k != KindInternal && k.String() == "internal" {
			t.Errorf("kind %d has no name", k)
		}
	}
}
