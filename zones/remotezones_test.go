package zones

import (
	"strings"
	"testing"
	"time"
)

// ParseZoneCA takes any bytes: it returns CA certificates or an error that
// says what was wrong, never a non-CA certificate, never a panic.
func FuzzParseZoneCA(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte(""))
	f.Add([]byte("not pem at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseZoneCA(data)
		if err != nil {
			if len(certs) != 0 {
				t.Fatal("certificates and an error")
			}
			return
		}
		for _, c := range certs {
			if !c.IsCA || time.Now().After(c.NotAfter) {
				t.Fatalf("accepted %q, not a valid CA", c.Subject)
			}
		}
	})
}

func TestCheckRemoteZoneName(t *testing.T) {
	z := &Zone{name: "tempZone"}
	for _, c := range []struct {
		name, want string
	}{
		{"zoneB", ""},
		{"zone-b.example_1", ""},
		{"", "empty"},
		{"tempZone", "does not register itself"},
		{"a/b", "no '/' or '#'"},
		{"alice#zoneA", "no '/' or '#'"},
		{"..", "not a name"},
		{"zone b", "letters, digits"},
		{strings.Repeat("z", 64), "longer than 63"},
	} {
		err := z.CheckRemoteZoneName(c.name)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
