package fasten_test

import (
	"fmt"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
)

func Example() {
	// Simulate an event from the catalog, as `webhook simulate` does...
	info, _ := fasten.Catalog().Lookup(fasten.TypeEHIExportSuccess)
	e, err := event.New(event.ModeTest, info.Type, info.Sample)
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Description)

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

func ExampleCatalog() {
	for _, t := range fasten.Catalog().Types() {
		fmt.Printf("%-30s %s\n", t.Type, t.Description)
	}
	// Output:
	// patient.authorization_revoked  Patient Authorization Revoked
	// patient.connection_success     Patient Connection Success
	// patient.ehi_export_failed      Patient EHI Export Failed
	// patient.ehi_export_success     Patient EHI Export Success
	// ping                           Ping
	// webhook.test                   Webhook Test
}
