package catalog

import (
	"context"

	"github.com/arca-data/arca/catalog/query"
)

// Caller is who runs a query: its rows hold only the collections and data
// objects the caller may read, directly, through a group or through public.
type Caller struct {
	User   UserID
	Admin  bool // sees everything in the zone
	Groups []UserID
}

// Querier runs iquest queries (package catalog/query) over the catalog.
type Querier interface {
	// Query calls fn with each row, its values rendered as text, as the rows
	// are read; an error from fn stops the query and is returned.
	Query(ctx context.Context, q *query.Query, caller Caller, fn func(row []string) error) error
}
