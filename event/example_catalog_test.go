package event_test

import (
	"errors"
	"fmt"

	"github.com/webhookkit/webhookkit/event"
)

func ExampleParseCatalog() {
	cat, err := event.ParseCatalog([]byte(`{"types": [
	  {"type": "order.paid", "description": "An order was paid in full",
	   "sample": {"order_id": "ord_1042", "amount": 4200, "currency": "EUR"}},
	  {"type": "invoice.finalized", "description": "An invoice can no longer change",
	   "sample": {"invoice_id": "in_77", "total": 4200}}
	]}`))
	if err != nil {
		panic(err)
	}
	for _, t := range cat.Types() { // sorted, ping included
		fmt.Printf("%-18s %s\n", t.Type, t.Description)
	}

	// A simulator sends a type's sample...
	info, _ := cat.Lookup("order.paid")
	e, err := event.New(event.ModeTest, info.Type, info.Sample)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(e.Data))

	// ...a subscription must select something...
	fmt.Println(cat.Match("order.*"), cat.Match("orders.*"))

	// ...and a sender refuses a typo.
	err = cat.Check("order.payed")
	fmt.Println(errors.Is(err, event.ErrUnknownType), err)
	fmt.Println(cat.Check("ping"))
	// Output:
	// invoice.finalized  An invoice can no longer change
	// order.paid         An order was paid in full
	// ping               Ping: sent to test that an endpoint is reachable and verifies signatures
	// {"order_id": "ord_1042", "amount": 4200, "currency": "EUR"}
	// true false
	// true event: unknown event type: "order.payed" is not in the catalog
	// <nil>
}

func ExampleNewCatalog() {
	_, err := event.NewCatalog(
		event.TypeInfo{Type: "order.paid"},
		event.TypeInfo{Type: "order.*"},
	)
	fmt.Println(err)
	// Output:
	// event: invalid catalog: types[1].type: "order.*" is a pattern; an entry declares one event type
}
