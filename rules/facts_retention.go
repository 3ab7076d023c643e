package rules

import (
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/arca-data/arca/catalog"
)

// Facts of retention (policies/lifecycle): object.retention, the lock and
// legal hold the catalog keeps on a data object (catalog.Lock), read from
// the same catalog read as the object's other facts.

const retentionTypeName = "arca.Retention"

var retentionLockType = cel.ObjectType(retentionTypeName)

var lifecycleObjectFields = []field{
	{"retention", retentionLockType, "its retention lock and legal hold: mode, until, hold, locked (a collection and a new object have none)", func(t any) ref.Val {
		e := entryOf(t)
		e.lookup()
		l := retentionFacts{now: e.f.req.Now}
		if e.exists && e.entry.Object != nil {
			l.lock = e.entry.Object.Lock
		}
		return structVal{typ: retentionLockType, v: &l}
	}},
}

// retentionFacts is a lock as rules see it, with the time the rule runs.
type retentionFacts struct {
	lock catalog.Lock
	now  time.Time
}

func retentionOf(t any) *retentionFacts { return t.(*retentionFacts) }

var retentionFields = []field{
	{"mode", types.StringType, `"compliance", "governance", or "" when it has no retention`, func(t any) ref.Val {
		return str(string(retentionOf(t).lock.Mode))
	}},
	{"until", types.TimestampType, "the end of retention (the Unix epoch when it has none)", func(t any) ref.Val {
		r := retentionOf(t)
		if r.lock.Mode == catalog.LockNone {
			return types.Timestamp{Time: time.Unix(0, 0).UTC()}
		}
		return types.Timestamp{Time: r.lock.Until}
	}},
	{"hold", types.BoolType, "whether a legal hold stands", func(t any) ref.Val { return types.Bool(retentionOf(t).lock.Hold) }},
	{"locked", types.BoolType, "whether it may not be removed now: a retention in force or a legal hold", func(t any) ref.Val {
		r := retentionOf(t)
		return types.Bool(r.lock.Locked(r.now))
	}},
	{"setBy", types.StringType, "who last changed the lock (name#zone), \"\" when no one did", func(t any) ref.Val {
		r := retentionOf(t)
		if r.lock.SetBy.Name == "" {
			return str("")
		}
		return str(r.lock.SetBy.String())
	}},
}
