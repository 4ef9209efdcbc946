package event_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/webhookkit/webhookkit/event"
)

func ExampleNew() {
	e, err := event.New(event.ModeTest, "patient.ehi_export_failed", map[string]string{
		"failure_reason": "token_refresh_failure",
		"task_id":        "fedec7b78cf6905872032b426473",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(e.APIMode, e.Type, len(e.ID))
	fmt.Println(string(e.Data))

	// The sender encodes each attempt with that attempt's date.
	attempt := time.Date(2024, 6, 13, 0, 8, 31, 0, time.UTC)
	body := e.AppendJSON(nil, attempt)
	fmt.Println(string(body[:55]))
	// Output:
	// test patient.ehi_export_failed 36
	// {"failure_reason":"token_refresh_failure","task_id":"fedec7b78cf6905872032b426473"}
	// {"api_mode":"test","date":"2024-06-13T00:08:31Z","id":"
}

func ExampleDecode() {
	body := []byte(`{
  "api_mode": "live",
  "date": "2024-06-13T00:08:31Z",
  "id": "c0ac7bc4-c6ef-4f0b-bba3-93506774eb74",
  "type": "webhook.test",
  "data": { "hello": "world",  "random": "txpsdf923jksdfl93" }
}`)
	e, err := event.Decode(body)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.APIMode, e.Date, e.ID, e.Type)
	fmt.Println(string(e.Data)) // verbatim, spacing included

	// Ambiguous input is rejected with an error naming the field.
	_, err = event.Decode([]byte(`{"api_mode":"live","date":"2024-06-13T00:08:31Z","id":"c0ac7bc4-c6ef-4f0b-bba3-93506774eb74",` +
		`"ID":"00000000-0000-4000-8000-000000000000","type":"ping","data":{}}`))
	var fe *event.FieldError
	fmt.Println(errors.Is(err, event.ErrInvalidJSON), errors.As(err, &fe) && fe.Field == "id")
	fmt.Println(err)
	// Output:
	// live 2024-06-13 00:08:31 +0000 UTC c0ac7bc4-c6ef-4f0b-bba3-93506774eb74 webhook.test
	// { "hello": "world",  "random": "txpsdf923jksdfl93" }
	// true true
	// event: invalid JSON: id: key "ID" at offset 93 differs only in case from "id"
}

func ExamplePattern_Match() {
	p, err := event.ParsePattern("patient.*")
	if err != nil {
		panic(err)
	}
	for _, typ := range []string{"patient.ehi_export_success", "patient.connection_success", "patient", "webhook.test"} {
		fmt.Println(typ, p.Match(typ))
	}
	_, err = event.ParsePattern("patient*")
	fmt.Println(err)
	// Output:
	// patient.ehi_export_success true
	// patient.connection_success true
	// patient false
	// webhook.test false
	// event: invalid pattern "patient*": '*' is allowed only as the whole last segment, as in "order.*", or as the whole pattern "*"
}

func ExampleDataAs() {
	type testData struct {
		Hello  string `json:"hello"`
		Random string `json:"random"`
	}
	e, err := event.Decode([]byte(`{"api_mode":"test","date":"2024-06-13T00:08:31Z",` +
		`"id":"c0ac7bc4-c6ef-4f0b-bba3-93506774eb74","type":"webhook.test",` +
		`"data":{"hello":"world","random":"txpsdf923jksdfl93"}}`))
	if err != nil {
		panic(err)
	}
	d, err := event.DataAs[testData](e)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Hello, d.Random)
	// Output: world txpsdf923jksdfl93
}
