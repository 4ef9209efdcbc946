package access_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/webhookkit/webhookkit/access"
)

// An AuthorizeFunc maps a request's credentials to a scope: here a bearer
// token naming the organization, "ops" for operators.
func ExampleAuthorizeFunc() {
	authorize := access.AuthorizeFunc(func(r *http.Request) (access.Scope, error) {
		switch tok := r.Header.Get("Authorization"); tok {
		case "":
			return access.Scope{}, errors.New("no token")
		case "Bearer ops":
			return access.Scope{All: true}, nil
		case "Bearer intruder":
			return access.Scope{}, access.ErrForbidden
		default:
			return access.Scope{Tenant: tok[len("Bearer "):]}, nil
		}
	})
	for _, tok := range []string{"", "Bearer org_1", "Bearer ops", "Bearer intruder"} {
		r := httptest.NewRequest(http.MethodGet, "/webhooks", nil)
		if tok != "" {
			r.Header.Set("Authorization", tok)
		}
		s, err := authorize(r)
		if err != nil {
			fmt.Println(access.Status(err))
			continue
		}
		fmt.Println(s.Allows("org_1"), s.Allows("org_2"))
	}
	// Output:
	// 401
	// true false
	// true true
	// 403
}
