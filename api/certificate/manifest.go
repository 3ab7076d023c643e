package certificate

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
)

// BagIt manifests (RFC 8493 §2.1.3): one line per file, "DIGEST PATH",
// the path relative to the bag with "data/" in front; a CR, LF or % in a
// path is percent-encoded.
const (
	ManifestSHA512 = "manifest-sha512.txt"
	ManifestSHA256 = "manifest-sha256.txt"
	bagitFormat    = "bagit-1.0"
)

// manifestAlg is the algorithm of a manifest file, and its digest length
// in hex.
func manifestAlg(name string) (alg string, hexLen int, err error) {
	switch name {
	case ManifestSHA512:
		return AlgSHA512, 128, nil
	case ManifestSHA256:
		return AlgSHA256, 64, nil
	}
	return "", 0, fmt.Errorf("manifest %q: not %s or %s", name, ManifestSHA512, ManifestSHA256)
}

// Entry is one file of a manifest pair: its path below the bag (data/...),
// size and both digests (lower-case hex).
type Entry struct {
	Path   string
	Size   int64
	SHA256 string
	SHA512 string
}

// WriteManifest writes the manifest name (ManifestSHA512 or
// ManifestSHA256) of entries, sorted by path.
func WriteManifest(name string, entries []Entry) ([]byte, error) {
	alg, _, err := manifestAlg(name)
	if err != nil {
		return nil, err
	}
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	var buf bytes.Buffer
	for _, e := range sorted {
		d := e.SHA512
		if alg == AlgSHA256 {
			d = e.SHA256
		}
		buf.WriteString(d)
		buf.WriteByte(' ')
		buf.WriteString(encodeBagPath(e.Path))
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

func encodeBagPath(p string) string {
	return strings.NewReplacer("%", "%25", "\n", "%0A", "\r", "%0D").Replace(p)
}

func decodeBagPath(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+2 >= len(p) {
			return "", fmt.Errorf("a %% that encodes nothing")
		}
		switch strings.ToUpper(p[i+1 : i+3]) {
		case "25":
			b.WriteByte('%')
		case "0A":
			b.WriteByte('\n')
		case "0D":
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf("%%%s: only %%25, %%0A and %%0D are encoded", p[i+1:i+3])
		}
		i += 2
	}
	return b.String(), nil
}

// ParseManifest reads the manifest name: path → digest. It is strict, as
// it reads what an attacker may have written: lower-case hex digests of
// the algorithm's length, one space, a clean relative path below data/,
// each path once, every line ending in LF.
func ParseManifest(name string, data []byte) (map[string]string, error) {
	_, hexLen, err := manifestAlg(name)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if len(data) == 0 {
		return out, nil
	}
	if data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("%s: the last line does not end in a newline", name)
	}
	for i, line := range strings.Split(string(data[:len(data)-1]), "\n") {
		n := i + 1
		digest, rawPath, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("%s line %d: not \"DIGEST PATH\"", name, n)
		}
		if len(digest) != hexLen || !isLowerHex(digest) {
			return nil, fmt.Errorf("%s line %d: the digest is not %d lower-case hex digits", name, n, hexLen)
		}
		p, err := decodeBagPath(rawPath)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, n, err)
		}
		if err := checkBagPath(p); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, n, err)
		}
		if _, dup := out[p]; dup {
			return nil, fmt.Errorf("%s line %d: %q is listed twice", name, n, p)
		}
		out[p] = digest
	}
	return out, nil
}

// checkBagPath accepts data/... paths that name a file inside the bag.
func checkBagPath(p string) error {
	if !strings.HasPrefix(p, "data/") || len(p) == len("data/") {
		return fmt.Errorf("path %q is not below data/", p)
	}
	if path.Clean(p) != p || strings.Contains(p, "\x00") {
		return fmt.Errorf("path %q is not clean", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || part == "." || part == "" {
			return fmt.Errorf("path %q leaves the bag", p)
		}
	}
	return nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// digestSHA512 is the hex SHA-512 of b, as the body names a manifest's.
func digestSHA512(b []byte) string {
	s := sha512.Sum512(b)
	return hex.EncodeToString(s[:])
}

// Manifests is the pair of manifests of one certificate, parsed and
// checked against each other.
type Manifests struct {
	SHA512 map[string]string
	SHA256 map[string]string
}

// parseManifests parses both manifests and checks that they list the
// same paths.
func parseManifests(m512, m256 []byte) (Manifests, error) {
	a, err := ParseManifest(ManifestSHA512, m512)
	if err != nil {
		return Manifests{}, err
	}
	b, err := ParseManifest(ManifestSHA256, m256)
	if err != nil {
		return Manifests{}, err
	}
	if len(a) != len(b) {
		return Manifests{}, fmt.Errorf("the manifests list %d and %d files", len(a), len(b))
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			return Manifests{}, fmt.Errorf("%s lists %q, %s does not", ManifestSHA512, p, ManifestSHA256)
		}
	}
	return Manifests{SHA512: a, SHA256: b}, nil
}
