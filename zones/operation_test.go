package zones

import (
	"errors"
	"testing"
)

// TestOperationTable checks that every operation of the table has a
// permission rule that knows it, and that a name not in the table is
// refused. That every operation fires, and that every operation that fires
// is in the table, is proven by the authorization walk (zones/rpc).
func TestOperationTable(t *testing.T) {
	for _, name := range OperationNames() {
		_, err := requirements(&Op{Name: OpName(name)})
		if err != nil && !errors.Is(err, errAdminOnly) && !errors.Is(err, errByZone) {
			t.Errorf("%s: %v", name, err)
		}
		info, ok := LookupOperation(name)
		if !ok || info.Name != OpName(name) {
			t.Errorf("LookupOperation(%s) = %v, %v", name, info, ok)
		}
		if info.ByZone != errors.Is(err, errByZone) {
			t.Errorf("%s: byZone %v, but its permission rule says %v", name, info.ByZone, err)
		}
	}
	for _, name := range []string{"delete", "checksum.update", "", "PUT"} {
		if _, err := requirements(&Op{Name: OpName(name)}); err == nil || errors.Is(err, errAdminOnly) || errors.Is(err, errByZone) {
			t.Errorf(`requirements of %q, which is no operation: %v; want "no permission rule"`, name, err)
		}
		if _, ok := LookupOperation(name); ok {
			t.Errorf("LookupOperation(%q) found an operation", name)
		}
	}
}
