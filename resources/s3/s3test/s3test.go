// Package s3test gives tests the MinIO server that .ci/services/30-minio.sh
// starts. A test without it skips, naming the script; with CI=true it fails.
package s3test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/arca-data/arca/resources/s3"
)

// Config returns a configuration for a bucket on the test server with a
// prefix no other test uses.
func Config(t testing.TB) s3.Config {
	t.Helper()
	endpoint := os.Getenv("ARCA_TEST_S3")
	if endpoint == "" {
		msg := "ARCA_TEST_S3 is not set: start MinIO with `source .ci/services/30-minio.sh`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return s3.Config{
		Endpoint:  endpoint,
		AccessKey: os.Getenv("ARCA_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ARCA_TEST_S3_SECRET_KEY"),
		Bucket:    "arca-test",
		Prefix:    "t-" + Unique(),
	}
}

// Unique returns a short random name.
func Unique() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
