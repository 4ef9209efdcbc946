package fasten

import (
	"encoding/json"
	"sync"

	"github.com/webhookkit/webhookkit/event"
)

// Catalog returns the provider's event catalog: its five types and
// [event.TypePing], each with a human description such as "Patient EHI
// Export Success" and a realistic sample data object mirroring the
// provider's documented examples (identifiers made up). Give it to a
// simulator or a sender whose application publishes these events.
//
// Every call returns the same catalog, which is immutable and safe for
// concurrent use.
func Catalog() *event.Catalog { return catalog() }

var catalog = sync.OnceValue(func() *event.Catalog {
	cat, err := event.NewCatalog(
		event.TypeInfo{
			Type:        event.TypePing,
			Description: "Ping",
			Sample:      json.RawMessage(`{"message":"ping: this endpoint is reachable and verifies signatures"}`),
		},
		event.TypeInfo{
			Type:        TypeEHIExportSuccess,
			Description: "Patient EHI Export Success",
			Sample: json.RawMessage(`{"download_links":[{"url":"https://api.connect.fastenhealth.com/v1/bridge/fhir/ehi-export/fedec7b7-8cf6-4bc9-9058-72032b426473/download/2024-06-12-8b0bb96d-6715-4ae4-bde5-ab97519bd1fa.jsonl",` +
				`"export_type":"jsonl","content_type":"application/fhir+ndjson"}],` +
				`"org_connection_id":"189484f4-5d6e-4a1b-9c2d-78a8caa3b64a","task_id":"fedec7b78cf6905872032b426473","org_id":"592c0579-c1cc-443f-a94e-4c8847c0c066",` +
				`"stats":{"total_resources":412,"total_by_resource_type":{"AllergyIntolerance":3,"Condition":27,"DiagnosticReport":41,"Encounter":58,"Immunization":9,"MedicationRequest":36,"Observation":231,"Patient":1,"Procedure":6}}}`),
		},
		event.TypeInfo{
			Type:        TypeEHIExportFailed,
			Description: "Patient EHI Export Failed",
			Sample: json.RawMessage(`{"failure_reason":"suppressed_please_contact","org_connection_id":"189484f4-5d6e-4a1b-9c2d-78a8caa3b64a",` +
				`"task_id":"fedec7b78cf6905872032b426473","org_id":"592c0579-c1cc-443f-a94e-4c8847c0c066"}`),
		},
		event.TypeInfo{
			Type:        TypeWebhookTest,
			Description: "Webhook Test",
			Sample:      json.RawMessage(`{"hello":"world","random":"txpsdf923jksdfl93"}`),
		},
		event.TypeInfo{
			Type:        TypeConnectionSuccess,
			Description: "Patient Connection Success",
			Sample: json.RawMessage(`{"org_connection_id":"189484f4-5d6e-4a1b-9c2d-78a8caa3b64a","endpoint_id":"8e2c6b5a-0f3d-4c7e-a1b9-2d4f6e8a0c1b",` +
				`"portal_id":"b7d1e3f5-2a4c-4e6a-8c0e-1f3a5c7e9b2d","brand_id":"c3e5a7b9-4d6f-4a8c-9e0a-2b4d6f8a0c3e","connection_status":"authorized",` +
				`"platform_type":"epic","external_id":"patient-4711","external_state":"state-9f2c","scope":"openid fhirUser offline_access patient/*.read",` +
				`"consent_expires_at":"2025-06-13T00:08:31Z","tefca_directory_id":""}`),
		},
		event.TypeInfo{
			Type:        TypeAuthorizationRevoked,
			Description: "Patient Authorization Revoked",
			Sample: json.RawMessage(`{"org_connection_id":"189484f4-5d6e-4a1b-9c2d-78a8caa3b64a","endpoint_id":"8e2c6b5a-0f3d-4c7e-a1b9-2d4f6e8a0c1b",` +
				`"portal_id":"b7d1e3f5-2a4c-4e6a-8c0e-1f3a5c7e9b2d","brand_id":"c3e5a7b9-4d6f-4a8c-9e0a-2b4d6f8a0c3e","platform_type":"epic","connection_status":"revoked"}`),
		},
	)
	if err != nil {
		panic("fasten: invalid catalog: " + err.Error()) // the entries above are constants; a test builds them
	}
	return cat
})
