package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

const resCols = `id, name, type, location, context, status, comment, COALESCE(parent, ''), qos, create_ns, modify_ns`

func scanResource(s interface{ Scan(...any) error }) (catalog.Resource, error) {
	var (
		r      catalog.Resource
		id     int64
		cr, mo int64
	)
	err := s.Scan(&id, &r.Name, &r.Type, &r.Location, &r.Context, &r.Status, &r.Comment, &r.Parent, &r.QoS, &cr, &mo)
	r.ID, r.CreateTime, r.ModifyTime = catalog.ID(id), fromNanos(cr), fromNanos(mo)
	return r, err
}

// checkResource validates r and gives it the default status.
func checkResource(r *catalog.Resource) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Status == "" {
		r.Status = "up"
	}
	return nil
}

// checkParent checks that the parent of r exists and that r is not among
// its ancestors.
func checkParent(w *wtx, r catalog.Resource) error {
	seen := map[string]bool{r.Name: true}
	for p := r.Parent; p != ""; {
		if seen[p] {
			return invalid("resource %s cannot be below %s: that makes a cycle", r.Name, r.Parent)
		}
		seen[p] = true
		var next string
		err := w.queryRow(`SELECT COALESCE(parent, '') FROM resources WHERE name = ?`, p).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("parent resource %s: %w", p, catalog.ErrNotFound)
		}
		if err != nil {
			return err
		}
		p = next
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateResource registers a storage resource.
func (c *Catalog) CreateResource(ctx context.Context, r catalog.Resource) (catalog.Resource, error) {
	fail := func(err error) (catalog.Resource, error) {
		return catalog.Resource{}, fmt.Errorf("create resource %s: %w", r.Name, err)
	}
	if err := checkResource(&r); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(w *wtx) error {
		var one int
		if err := w.queryRow(`SELECT 1 FROM resources WHERE name = ?`, r.Name).Scan(&one); err == nil {
			return catalog.ErrExists
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := checkParent(w, r); err != nil {
			return err
		}
		t, n := now()
		res, err := w.exec(`INSERT INTO resources (name, type, location, context, status, comment, parent, qos, create_ns, modify_ns)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Name, r.Type, r.Location, r.Context, r.Status, r.Comment, nullable(r.Parent), r.QoS, n, n)
		if err != nil {
			return mapErr("insert", err)
		}
		id, err := res.LastInsertId()
		r.ID, r.CreateTime, r.ModifyTime = catalog.ID(id), t, t
		return err
	})
	if err != nil {
		return fail(err)
	}
	return r, nil
}

// Resource returns the resource called name.
func (c *Catalog) Resource(ctx context.Context, name string) (catalog.Resource, error) {
	var r catalog.Resource
	err := c.read(ctx, func(q *rtx) (err error) {
		r, err = scanResource(q.queryRow(`SELECT `+resCols+` FROM resources WHERE name = ?`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrNotFound
		}
		return err
	})
	if err != nil {
		return catalog.Resource{}, fmt.Errorf("resource %s: %w", name, err)
	}
	return r, nil
}

// ListResources returns every resource, ordered by name.
func (c *Catalog) ListResources(ctx context.Context) ([]catalog.Resource, error) {
	var out []catalog.Resource
	err := c.read(ctx, func(q *rtx) error {
		rows, err := q.query(`SELECT ` + resCols + ` FROM resources ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanResource(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list resources: %w", err)
	}
	return out, nil
}

// UpdateResource stores every field of r but its name, id and create time.
func (c *Catalog) UpdateResource(ctx context.Context, r catalog.Resource) error {
	fail := func(err error) error { return fmt.Errorf("update resource %s: %w", r.Name, err) }
	if err := checkResource(&r); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(w *wtx) error {
		if err := checkParent(w, r); err != nil {
			return err
		}
		_, n := now()
		return affected(w.exec(`UPDATE resources SET type = ?, location = ?, context = ?, status = ?, comment = ?,
			parent = ?, qos = ?, modify_ns = ? WHERE name = ?`,
			r.Type, r.Location, r.Context, r.Status, r.Comment, nullable(r.Parent), r.QoS, n, r.Name))
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// RemoveResource unregisters a resource that holds no replica and has no
// child resource.
func (c *Catalog) RemoveResource(ctx context.Context, name string) error {
	err := c.write(ctx, func(w *wtx) error {
		var n int
		if err := w.queryRow(`SELECT count(*) FROM resources WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return catalog.ErrNotFound
		}
		if err := w.queryRow(`SELECT count(*) FROM replicas WHERE resource = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d replicas remain on it: %w", n, catalog.ErrNotEmpty)
		}
		if err := w.queryRow(`SELECT count(*) FROM resources WHERE parent = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d child resources remain below it: %w", n, catalog.ErrNotEmpty)
		}
		var rid int64
		if err := w.queryRow(`SELECT id FROM resources WHERE name = ?`, name).Scan(&rid); err != nil {
			return err
		}
		if err := deleteAVUsOf(w, kindResource, rid); err != nil {
			return err
		}
		_, err := w.exec(`DELETE FROM resources WHERE id = ?`, rid)
		return mapErr("delete", err)
	})
	if err != nil {
		return fmt.Errorf("remove resource %s: %w", name, err)
	}
	return nil
}
