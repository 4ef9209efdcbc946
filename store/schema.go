package store

import (
	"fmt"
	"slices"
	"strings"
)

// CheckColumns tells whether a table that a SQL store found under one of its
// names is the store's own. want maps the names of the columns the store
// needs to their types, have those of the table found, both spelled as the
// database reports them (types compare without regard to case). A table
// with every wanted column, of the wanted type, is the store's, whatever
// other columns it has. Otherwise CheckColumns returns an error wrapping
// [ErrSchemaMismatch] that names the table, the missing columns and those of
// another type, in name order. SQL drivers call it from Migrate for each of
// their tables that exists, before changing anything, so a table of another
// application is refused instead of adopted.
func CheckColumns(table string, want, have map[string]string) error {
	var missing, differ []string
	for name, typ := range want {
		got, ok := have[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case !strings.EqualFold(got, typ):
			differ = append(differ, fmt.Sprintf("%s is %s, want %s", name, got, typ))
		}
	}
	if len(missing) == 0 && len(differ) == 0 {
		return nil
	}
	slices.Sort(missing)
	slices.Sort(differ)
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing columns "+strings.Join(missing, ", "))
	}
	if len(differ) > 0 {
		parts = append(parts, "columns of another type: "+strings.Join(differ, "; "))
	}
	return fmt.Errorf("%w: table %q exists but is not this store's: %s", ErrSchemaMismatch, table, strings.Join(parts, "; "))
}
