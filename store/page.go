package store

// DefaultPageSize is the page size when [Page.Limit] is zero; MaxPageSize is
// the largest a store returns.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Page asks for one page of a list. List methods return the cursor of the
// next page, empty on the last page.
type Page struct {
	// Cursor is the value a previous call returned; empty for the first page.
	// Cursors are opaque and specific to the store and the list.
	Cursor string
	// Limit is the page size: zero means DefaultPageSize; larger than
	// MaxPageSize means MaxPageSize.
	Limit int
}

// Size returns the effective page size.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageSize
	case p.Limit > MaxPageSize:
		return MaxPageSize
	}
	return p.Limit
}
