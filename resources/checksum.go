package resources

import (
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"io"
)

// ChecksumPrefix marks a SHA-256 checksum, as iRODS writes it.
const ChecksumPrefix = "sha2:"

// NewHash returns the hash behind Arca checksums.
func NewHash() hash.Hash { return sha256.New() }

// FormatChecksum renders a SHA-256 sum as "sha2:<base64>".
func FormatChecksum(sum []byte) string {
	return ChecksumPrefix + base64.StdEncoding.EncodeToString(sum)
}

// ChecksumOf reads r to its end and returns its checksum and length.
func ChecksumOf(r io.Reader) (string, int64, error) {
	h := NewHash()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", n, err
	}
	return FormatChecksum(h.Sum(nil)), n, nil
}
