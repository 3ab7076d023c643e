package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// The chain is append-only in the schema itself, and whoever gets past
// that (with the database file in hand) is found out by VerifyProvChain.
func TestProvenanceTamper(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t)
	s := catalog.ProvSubject{Kind: catalog.SubjectObject, ID: 42}
	for i, op := range []string{"put", "checksum", "replicate", "metadata.add"} {
		start := time.Now()
		if _, err := c.AppendProvenance(ctx, []catalog.ProvRecord{{Subject: s, Activity: "a" + op, Op: op, Agent: "rods#tempZone",
			Path: "/tempZone/x", Start: start, End: start, Attributes: map[string]string{"i": string(rune('0' + i))}}}); err != nil {
			t.Fatal(err)
		}
	}
	exec := func(q string) error {
		return c.write(ctx, func(w *wtx) error { _, err := w.exec(q); return err })
	}
	for _, q := range []string{
		`UPDATE prov_records SET doc = doc WHERE seq = 2`,
		`DELETE FROM prov_records WHERE seq = 2`,
	} {
		if err := exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", q, err)
		}
	}
	verify := func() []catalog.ProvProblem {
		recs, err := c.ProvenanceOf(ctx, s, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		head, err := c.ProvenanceHead(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return catalog.VerifyProvChain(s, recs, head, true)
	}
	if p := verify(); len(p) != 0 {
		t.Fatalf("untouched chain: %v", p)
	}
	// Someone with the file drops the guard and edits a record.
	for _, q := range []string{`DROP TRIGGER prov_records_append_only_update`, `DROP TRIGGER prov_records_append_only_delete`,
		`UPDATE prov_records SET doc = CAST(replace(CAST(doc AS TEXT), 'rods#tempZone', 'eve#tempZone') AS BLOB) WHERE seq = 2`} {
		if err := exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	if p := verify(); len(p) != 1 || p[0].Seq != 2 || !strings.Contains(p[0].Problem, "edited") {
		t.Errorf("edited record 2: %v", p)
	}
	// Editing the digest too breaks the link from record 3.
	if err := exec(`UPDATE prov_records SET digest = 'sha256:' || lower(hex(sha256(doc))) WHERE seq = 2`); err == nil {
		if p := verify(); len(p) != 1 || p[0].Seq != 3 {
			t.Errorf("edited record 2 with its digest: %v", p)
		}
	} // (this SQLite may have no sha256(); the first edit is enough then)
	if err := exec(`DELETE FROM prov_records WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	if p := verify(); len(p) == 0 || !strings.Contains(p[len(p)-1].String(), "missing") {
		t.Errorf("removed record 3: %v", p)
	}
	if err := exec(`DELETE FROM prov_records WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	if p := verify(); len(p) == 0 || !strings.Contains(p[len(p)-1].String(), "head says 4") {
		t.Errorf("removed the last record: %v", p)
	}
}
