package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/minio/minio-go/v7"

	"github.com/arca-data/arca/resources"
)

var _ resources.Retainer = (*Resource)(nil)

// lockEnabled asks whether the bucket was made with Object Lock.
func (r *Resource) lockEnabled(ctx context.Context) (bool, error) {
	var enabled string
	err := r.retry(ctx, func() (err error) {
		enabled, _, _, _, err = r.client.GetObjectLockConfig(ctx, r.cfg.Bucket)
		if code := errorCode(err); code == "ObjectLockConfigurationNotFoundError" || code == "ObjectLockConfigurationNotFound" {
			enabled, err = "", nil
		}
		return mapErr(err)
	})
	if err != nil && !errors.Is(err, resources.ErrUnavailable) {
		// Credentials that may not read the lock configuration, or a
		// store that does not know it: treated as a bucket without lock.
		return false, nil
	}
	return enabled == "Enabled", err
}

// Locks reports whether the bucket has Object Lock (asked once, at Open).
func (r *Resource) Locks() bool { return r.locking }

// Retain sets the S3 retention and legal hold of the object of key, in a
// bucket with Object Lock; elsewhere it does nothing. In such a bucket a
// delete without a version only hides the object behind a delete marker:
// the locked version stays until its date.
func (r *Resource) Retain(ctx context.Context, key string, ret resources.Retention) error {
	if err := resources.CheckKey(key); err != nil {
		return fmt.Errorf("s3: retain: %w", err)
	}
	if !r.locking {
		return nil
	}
	name := r.name(key)
	opts := minio.PutObjectRetentionOptions{GovernanceBypass: ret.Bypass}
	switch ret.Mode {
	case "governance":
		mode := minio.Governance
		opts.Mode, opts.RetainUntilDate = &mode, &ret.Until
	case "compliance":
		mode := minio.Compliance
		opts.Mode, opts.RetainUntilDate = &mode, &ret.Until
	case "":
	default:
		return fmt.Errorf("s3: retain %q: unknown mode %q", key, ret.Mode)
	}
	if ret.Mode != "" || ret.Bypass {
		err := r.retry(ctx, func() error {
			return mapErr(r.client.PutObjectRetention(ctx, r.cfg.Bucket, name, opts))
		})
		if err != nil {
			return r.errorf("retain", key, err)
		}
	}
	hold := minio.LegalHoldDisabled
	if ret.Hold {
		hold = minio.LegalHoldEnabled
	}
	err := r.retry(ctx, func() error {
		return mapErr(r.client.PutObjectLegalHold(ctx, r.cfg.Bucket, name, minio.PutObjectLegalHoldOptions{Status: &hold}))
	})
	if err != nil {
		return r.errorf("legal hold", key, err)
	}
	return nil
}
