package zones_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkS3Put1GiB compares iput of one 1 GiB file to an S3 resource with
// rclone copy of the same file to the same MinIO, in the same run. It needs
// the MinIO of .ci/services/30-minio.sh (ARCA_TEST_S3) and an rclone binary
// (ARCA_TEST_RCLONE, or ~/.cache/arca-tools/rclone-v1.76.0/rclone, built
// with `GOBIN=... go install github.com/rclone/rclone@v1.76.0`).
func BenchmarkS3Put1GiB(b *testing.B) {
	endpoint := os.Getenv("ARCA_TEST_S3")
	if endpoint == "" {
		b.Skip("ARCA_TEST_S3 is not set: source .ci/services/30-minio.sh")
	}
	access, secret := os.Getenv("ARCA_TEST_S3_ACCESS_KEY"), os.Getenv("ARCA_TEST_S3_SECRET_KEY")
	dir := benchDir(b)
	src := filepath.Join(dir, "big.bin")
	makeBigFile(b, src, bigSize)
	z := startBenchZone(b, filepath.Join(dir, "zone"))
	defer z.stop()
	auth := filepath.Join(dir, "s3.auth")
	if err := os.WriteFile(auth, []byte(access+"\n"+secret+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	bucket := fmt.Sprintf("arca-bench-%d", time.Now().UnixNano())
	z.run(b, nil, "iadmin", "mkresc", "s3bench", "s3", bucket+"/arca",
		"endpoint="+endpoint+";region=us-east-1;auth_file="+auth)

	rclone := os.Getenv("ARCA_TEST_RCLONE")
	if rclone == "" {
		home, _ := os.UserHomeDir()
		rclone = filepath.Join(home, ".cache", "arca-tools", "rclone-v1.76.0", "rclone")
	}
	run := 0
	b.Run("rclone", func(b *testing.B) {
		if _, err := os.Stat(rclone); err != nil {
			b.Skipf("no rclone at %s", rclone)
		}
		b.SetBytes(bigSize)
		for i := 0; i < b.N; i++ {
			run++
			cmd := exec.Command(rclone, "copy", src, ":s3:"+bucket+"/rclone-"+strconv.Itoa(run))
			cmd.Env = append(os.Environ(), "RCLONE_S3_PROVIDER=Minio", "RCLONE_S3_ENDPOINT="+endpoint,
				"RCLONE_S3_ACCESS_KEY_ID="+access, "RCLONE_S3_SECRET_ACCESS_KEY="+secret, "RCLONE_S3_REGION=us-east-1",
				"RCLONE_CONFIG=/dev/null")
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("rclone: %v: %s", err, out)
			}
		}
	})
	b.Run("iput", func(b *testing.B) {
		b.SetBytes(bigSize)
		for i := 0; i < b.N; i++ {
			z.run(b, nil, "iput", "-f", "-R", "s3bench", src, "big.bin")
		}
	})
}
