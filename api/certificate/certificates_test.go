package certificate

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/internal/tlsca"
)

// testZone is a zone's CA (made by internal/tlsca as the server makes it)
// and its certificate-signing key.
type testZone struct {
	signer *Signer
	roots  *x509.CertPool
	caFile string
}

func newTestZone(t testing.TB, name string) testZone {
	t.Helper()
	dir := t.TempDir()
	if err := tlsca.CreateCertificates(dir, nil); err != nil {
		t.Fatal(err)
	}
	key, chain, err := tlsca.LoadOrCreateSigner(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "cert-signing-key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key mode: %v %v", fi.Mode(), err)
	}
	s, err := NewSigner(key, chain[:1])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	return testZone{signer: s, roots: roots, caFile: filepath.Join(dir, tlsca.CACertFile)}
}

func entryOf(p string, data []byte) Entry {
	a, b := sha256.Sum256(data), sha512.Sum512(data)
	return Entry{Path: p, Size: int64(len(data)), SHA256: hex.EncodeToString(a[:]), SHA512: hex.EncodeToString(b[:])}
}

var testFiles = map[string]string{
	"data/a.txt":           "alpha\n",
	"data/sub/b.bin":       "bravo bravo\n",
	"data/sub/deep/c 1.nc": "charlie with a space in its name\n",
	"data/odd%name.txt":    "a percent sign is encoded in a manifest\n",
}

func testBody(zone string, entries []Entry) Body {
	b := Body{
		Version:  BodyVersion,
		ID:       "urn:uuid:00000000-0000-4000-8000-000000000001",
		IssuedAt: FormatTime(time.Now()),
		Issuer:   Issuer{Zone: zone, Organisation: "Example Data Centre", IssuedBy: "rods#" + zone},
		Subject:  Subject{Path: "/" + zone + "/home/rods/pkg", Kind: "collection"},
		QoS:      QoS{Status: QoSNotEvaluated},
	}
	for _, e := range entries {
		b.Objects = append(b.Objects, Object{Path: e.Path, Size: e.Size, Fixity: []Digest{{AlgSHA256, e.SHA256}, {AlgSHA512, e.SHA512}}})
	}
	return b
}

func testEntries() []Entry {
	var es []Entry
	for p, d := range testFiles {
		es = append(es, entryOf(p, []byte(d)))
	}
	return es
}

func issueTest(t testing.TB, z testZone) []byte {
	t.Helper()
	es := testEntries()
	file, _, err := z.signer.Issue(testBody("tempZone", es), es)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func TestIssueAndVerify(t *testing.T) {
	z := newTestZone(t, "tempZone")
	file := issueTest(t, z)
	v, err := Verify(file, z.roots)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if v.Body.Manifest.ObjectCount != len(testFiles) || len(v.Manifests.SHA512) != len(testFiles) {
		t.Errorf("counts: body %d, manifest %d", v.Body.Manifest.ObjectCount, len(v.Manifests.SHA512))
	}
	if v.Body.Issuer.KeyID != z.signer.KeyID() || len(v.Chain) != 2 {
		t.Errorf("kid %s, chain %d", v.Body.Issuer.KeyID, len(v.Chain))
	}
	// A local copy that is what was certified verifies; then every kind
	// of change is named.
	dir := t.TempDir()
	for p, d := range testFiles {
		local := filepath.Join(dir, strings.TrimPrefix(p, "data/"))
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(local, []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := VerifyData(context.Background(), v.Manifests, dir, true)
	if err != nil || !r.OK() || r.Checked != len(testFiles) {
		t.Fatalf("clean copy: %+v %v", r, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub/b.bin"), []byte("bravo Bravo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "a.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub/new.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = VerifyData(context.Background(), v.Manifests, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	msg := r.Err().Error()
	for _, want := range []string{"missing data/a.txt", "extra data/sub/new.txt", "changed data/sub/b.bin (sha-256, sha-512)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("report %q lacks %q", msg, want)
		}
	}
}

// TestAttacks edits a certificate every way an attacker might, and each
// must fail verification naming the part that failed.
func TestAttacks(t *testing.T) {
	z := newTestZone(t, "tempZone")
	other := newTestZone(t, "otherZone")
	good := issueTest(t, z)
	otherFile := func() File {
		es := []Entry{entryOf("data/a.txt", []byte("something else\n"))}
		b, _, err := z.signer.Issue(testBody("tempZone", es), es)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := ParseFile(b)
		return f
	}()
	parts := func(f File) []string { return strings.Split(f.JWS, ".") }
	tests := []struct {
		name string
		edit func(t *testing.T, f *File) []byte
		part string
	}{
		{"body edited", func(t *testing.T, f *File) []byte {
			p := parts(*f)
			payload, _ := base64.RawURLEncoding.DecodeString(p[1])
			payload = []byte(strings.Replace(string(payload), "/tempZone/home/rods/pkg", "/tempZone/home/rods/pkh", 1))
			p[1] = base64.RawURLEncoding.EncodeToString(payload)
			f.JWS = strings.Join(p, ".")
			return nil
		}, "signature"},
		{"body size edited", func(t *testing.T, f *File) []byte {
			p := parts(*f)
			payload, _ := base64.RawURLEncoding.DecodeString(p[1])
			payload = []byte(strings.Replace(string(payload), `"size":6`, `"size":7`, 1))
			p[1] = base64.RawURLEncoding.EncodeToString(payload)
			f.JWS = strings.Join(p, ".")
			return nil
		}, "signature"},
		{"signature edited", func(t *testing.T, f *File) []byte {
			p := parts(*f)
			sig, _ := base64.RawURLEncoding.DecodeString(p[2])
			sig[5] ^= 1
			p[2] = base64.RawURLEncoding.EncodeToString(sig)
			f.JWS = strings.Join(p, ".")
			return nil
		}, "signature"},
		{"manifest edited", func(t *testing.T, f *File) []byte {
			m := f.Manifests[ManifestSHA512]
			f.Manifests[ManifestSHA512] = "0" + m[1:]
			return nil
		}, "manifest"},
		{"manifest line added", func(t *testing.T, f *File) []byte {
			f.Manifests[ManifestSHA256] += strings.Repeat("a", 64) + " data/z\n"
			return nil
		}, "manifest"},
		{"manifests swapped for another certificate's", func(t *testing.T, f *File) []byte {
			f.Manifests = otherFile.Manifests
			return nil
		}, "manifest"},
		{"chain replaced by another zone's", func(t *testing.T, f *File) []byte {
			p := parts(*f)
			hdr, _ := base64.RawURLEncoding.DecodeString(p[0])
			var h map[string]any
			if err := json.Unmarshal(hdr, &h); err != nil {
				t.Fatal(err)
			}
			h["x5c"] = []string{base64.StdEncoding.EncodeToString(other.signer.chain[0].Raw)}
			hdr, _ = json.Marshal(h)
			p[0] = base64.RawURLEncoding.EncodeToString(hdr)
			f.JWS = strings.Join(p, ".")
			return nil
		}, "chain"},
		{"signed by another zone's key", func(t *testing.T, f *File) []byte {
			es := testEntries()
			b, _, err := other.signer.Issue(testBody("tempZone", es), es)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, "chain"},
		{"no chain", func(t *testing.T, f *File) []byte {
			p := parts(*f)
			hdr, _ := base64.RawURLEncoding.DecodeString(p[0])
			var h map[string]any
			_ = json.Unmarshal(hdr, &h)
			delete(h, "x5c")
			hdr, _ = json.Marshal(h)
			p[0] = base64.RawURLEncoding.EncodeToString(hdr)
			f.JWS = strings.Join(p, ".")
			return nil
		}, "chain"},
		{"signed body not canonical", func(t *testing.T, f *File) []byte {
			es := testEntries()
			body := testBody("tempZone", es)
			body.Issuer.KeyID = z.signer.kid
			raw, _ := json.MarshalIndent(body, "", " ")
			jws, err := z.signer.signer.Sign(raw)
			if err != nil {
				t.Fatal(err)
			}
			f.JWS, _ = jws.CompactSerialize()
			return nil
		}, "canonical form"},
		{"unknown field in the file", func(t *testing.T, f *File) []byte {
			b, _ := f.Marshal()
			return []byte(strings.Replace(string(b), `"format"`, `"extra": 1, "format"`, 1))
		}, "file"},
		{"a manifest missing", func(t *testing.T, f *File) []byte {
			delete(f.Manifests, ManifestSHA256)
			return nil
		}, "file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFile(good)
			if err != nil {
				t.Fatal(err)
			}
			f.Manifests = map[string]string{ManifestSHA512: f.Manifests[ManifestSHA512], ManifestSHA256: f.Manifests[ManifestSHA256]}
			data := tt.edit(t, &f)
			if data == nil {
				data, _ = f.Marshal()
			}
			_, err = Verify(data, z.roots)
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("verify passed or failed without a part: %v", err)
			}
			if ve.Part != tt.part {
				t.Errorf("failed in %q (%v), want %q", ve.Part, err, tt.part)
			}
		})
	}
	// The other zone's certificate verifies against its own CA.
	es := testEntries()
	b, _, _ := other.signer.Issue(testBody("otherZone", es), es)
	if _, err := Verify(b, other.roots); err != nil {
		t.Errorf("other zone's own certificate: %v", err)
	}
}

// TestEveryByteMatters flips each byte of a small certificate file in
// turn: none of the edits may verify.
func TestEveryByteMatters(t *testing.T) {
	z := newTestZone(t, "tempZone")
	es := []Entry{entryOf("data/a.txt", []byte("alpha\n"))}
	good, _, err := z.signer.Issue(testBody("tempZone", es), es)
	if err != nil {
		t.Fatal(err)
	}
	for i := range good {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x01
		if _, err := Verify(bad, z.roots); err == nil {
			t.Errorf("byte %d (%q→%q) edited: verified", i, good[i], bad[i])
		}
	}
}

func TestParseManifest(t *testing.T) {
	d64 := strings.Repeat("ab", 32)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"empty", "", true},
		{"one", d64 + " data/a\n", true},
		{"encoded", d64 + " data/a%0Ab%25\n", true},
		{"no newline", d64 + " data/a", false},
		{"upper hex", strings.ToUpper(d64) + " data/a\n", false},
		{"short digest", d64[2:] + " data/a\n", false},
		{"outside data", d64 + " a\n", false},
		{"dot dot", d64 + " data/../x\n", false},
		{"twice", d64 + " data/a\n" + d64 + " data/a\n", false},
		{"bad escape", d64 + " data/a%41\n", false},
		{"two spaces", d64 + "  data/a\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest(ManifestSHA256, []byte(tt.in))
			if (err == nil) != tt.ok {
				t.Errorf("ParseManifest(%q): %v", tt.in, err)
			}
		})
	}
}

func FuzzParseManifest(f *testing.F) {
	es := testEntries()
	m, _ := WriteManifest(ManifestSHA512, es)
	f.Add(m)
	f.Add([]byte(strings.Repeat("ab", 64) + " data/a%0A\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseManifest(ManifestSHA512, data)
		if err != nil {
			return
		}
		// What parses writes back to the same manifest.
		var back []Entry
		for p, d := range got {
			back = append(back, Entry{Path: p, SHA512: d})
		}
		again, err := WriteManifest(ManifestSHA512, back)
		if err != nil {
			t.Fatal(err)
		}
		got2, err := ParseManifest(ManifestSHA512, again)
		if err != nil || len(got2) != len(got) {
			t.Fatalf("round trip: %v (%d, %d)", err, len(got2), len(got))
		}
		for p, d := range got {
			if got2[p] != d {
				t.Fatalf("round trip changed %q", p)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	z := newTestZone(f, "tempZone")
	good := issueTest(f, z)
	f.Add(good)
	f.Add([]byte(`{"format":"` + FileFormat + `","jws":"a.b.c","manifests":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Verify(data, z.roots)
		if err != nil {
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("an error without a part: %v", err)
			}
			return
		}
		// Whatever verifies is signed by this zone and canonical.
		c, err := Canonical(v.Body)
		if err != nil || string(c) != string(v.Canonical) {
			t.Fatalf("verified a body that does not round-trip: %v", err)
		}
	})
}

// TestHashLargeFile: the two-goroutine pass of a large file gives the
// digests of one read of it, at every size around its buffers.
func TestHashLargeFile(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{parallelHashSize, parallelHashSize + 1, 9<<20 + 123, 8 << 20} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7 / 3)
		}
		p := filepath.Join(dir, "big")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		a, b := sha256.Sum256(data), sha512.Sum512(data)
		h256, h512, err := hashFile(p, make([]byte, 1<<20))
		if err != nil || h256 != hex.EncodeToString(a[:]) || h512 != hex.EncodeToString(b[:]) {
			t.Errorf("size %d: wrong digests (%v)", size, err)
		}
	}
}
