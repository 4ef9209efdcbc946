package fasten_test

import (
	"fmt"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
)

func Example() {
	// Simulate an event from the registry, as `webhook simulate` does...
	data, _ := fasten.Sample(fasten.TypeEHIExportSuccess)
	e, err := event.New(event.ModeTest, fasten.TypeEHIExportSuccess, data)
	if err != nil {
		panic(err)
	}
	fmt.Println(fasten.Describe(e.Type))

	// ...and read it on the receiving side.
	d, err := event.DataAs[fasten.EHIExportSuccess](e)
	if err != nil {
		panic(err)
	}
	if err := d.Validate(); err != nil {
		panic(err)
	}
	for _, l := range d.Links() {
		fmt.Println(l.ExportType, l.ContentType)
	}
	fmt.Println(d.Stats.TotalResources, "resources,", d.Stats.TotalByResourceType["Observation"], "observations")
	// Output:
	// Patient EHI Export Success
	// jsonl application/fhir+ndjson
	// 412 resources, 231 observations
}

func ExampleTypes() {
	for _, typ := range fasten.Types() {
		fmt.Printf("%-30s %s\n", typ, fasten.Describe(typ))
	}
	// Output:
	// patient.authorization_revoked  Patient Authorization Revoked
	// patient.connection_success     Patient Connection Success
	// patient.ehi_export_failed      Patient EHI Export Failed
	// patient.ehi_export_success     Patient EHI Export Success
	// ping                           Ping
	// webhook.test                   Webhook Test
}
