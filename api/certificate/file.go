package certificate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// FileFormat names the self-contained certificate file's format.
const FileFormat = "arca-preservation-certificate/1"

// MaxFileSize bounds a certificate file that Verify reads.
const MaxFileSize = 256 << 20

// File is the self-contained certificate: the JWS (compact serialisation,
// whose payload is the JCS-canonical body) and the manifests whose
// digests the body signs, by name.
type File struct {
	Format    string            `json:"format"`
	JWS       string            `json:"jws"`
	Manifests map[string]string `json:"manifests"`
}

// Marshal writes f as the certificate file (indented JSON, a newline at
// the end).
func (f File) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("certificate file: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseFile reads a certificate file strictly: known fields only, this
// format, a JWS, and exactly the two manifests.
func ParseFile(data []byte) (File, error) {
	if len(data) > MaxFileSize {
		return File{}, fmt.Errorf("certificate file: %d bytes (at most %d)", len(data), MaxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return File{}, fmt.Errorf("certificate file: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return File{}, fmt.Errorf("certificate file: something follows the certificate")
	}
	if f.Format != FileFormat {
		return File{}, fmt.Errorf("certificate file: format %q, not %q", f.Format, FileFormat)
	}
	if f.JWS == "" {
		return File{}, fmt.Errorf("certificate file: no signature (jws)")
	}
	if len(f.Manifests) != 2 {
		return File{}, fmt.Errorf("certificate file: %d manifests, not %s and %s", len(f.Manifests), ManifestSHA512, ManifestSHA256)
	}
	for _, name := range []string{ManifestSHA512, ManifestSHA256} {
		if _, ok := f.Manifests[name]; !ok {
			return File{}, fmt.Errorf("certificate file: no %s", name)
		}
	}
	return f, nil
}
