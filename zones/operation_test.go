package zones

import (
	"testing"
)

// TestOperationNames checks that every name rules may fire on is an
// operation that authorization knows, and that a name it does not know is
// refused, so the list cannot hold a name no operation carries.
func TestOperationNames(t *testing.T) {
	for _, name := range OperationNames {
		if _, err := requirements(&Op{Name: name}); err != nil && !isKnownRefusal(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := requirements(&Op{Name: "delete"}); err == nil || isKnownRefusal(err) {
		t.Errorf(`requirements of an operation that does not exist: %v; want "no permission rule"`, err)
	}
}

// isKnownRefusal reports whether err is a rule of requirements (admins
// only, done by the zone) rather than its not knowing the operation.
func isKnownRefusal(err error) bool {
	return err == errAdminOnly || err == errByZone
}
