package fasten

import (
	"encoding/json"

	"github.com/webhookkit/webhookkit/event"
)

// sample is one entry of the registry.
type sample struct {
	label string
	data  string
}

// lookup returns the registry entry for typ: a realistic data object
// mirroring the provider's documented examples (identifiers made up) and a
// label. It is a function rather than a map so the registry is immutable.
func lookup(typ string) (sample, bool) {
	switch typ {
	case event.TypePing:
		return sample{
			label: "Ping",
			data:  `{"message":"ping: this endpoint is reachable and verifies signatures"}`,
		}, true
	case TypeEHIExportSuccess:
		return sample{
			label: "Patient EHI Export Success",
			data: `{"download_links":[{"url":"https://api.connect.fastenhealth.com/v1/bridge/fhir/ehi-export/fedec7b7-8cf6-4bc9-9058-72032b426473/download/2024-06-12-8b0bb96d-6715-4ae4-bde5-ab97519bd1fa.jsonl",` +
				`"export_type":"jsonl","content_type":"application/fhir+ndjson"}],` +
				`"org_connection_id":"189484f4-5d6e-4a1b-9c2d-78a8caa3b64a","task_id":"fedec7b78cf6905872032b426473","org_id":"592c0579-c1cc-443f-a94e-4c8847c0c066",` +
				`"stats":{"total_resources":412,"total_by_resource_type":{"AllergyIntolerance":3,"Condition":27,"DiagnosticReport":41,"Encounter":58,"Immunization":9,"MedicationRequest":36,"Observation":231,"Patient":1,"Procedure":6}}}`,
		}, true
	case TypeEHIExportFailed:
		return sample{
			label: "Patient EHI Export Failed",
			data: `{"failure_reason":"suppressed_please_contact","org_connection_id":"189484f4-5d6e-4a1b-9c2d-78a8caa3b64a",` +
				`"task_id":"fedec7b78cf6905872032b426473","org_id":"592c0579-c1cc-443f-a94e-4c8847c0c066"}`,
		}, true
	case TypeWebhookTest:
		return sample{
			label: "Webhook Test",
			data:  `{"hello":"world","random":"txpsdf923jksdfl93"}`,
		}, true
	case TypeConnectionSuccess:
		return sample{
			label: "Patient Connection Success",
			data: `{"org_connection_id":"189484f4-5d6e-4a1b-9c2d-78a8caa3b64a","endpoint_id":"8e2c6b5a-0f3d-4c7e-a1b9-2d4f6e8a0c1b",` +
				`"portal_id":"b7d1e3f5-2a4c-4e6a-8c0e-1f3a5c7e9b2d","brand_id":"c3e5a7b9-4d6f-4a8c-9e0a-2b4d6f8a0c3e","connection_status":"authorized",` +
				`"platform_type":"epic","external_id":"patient-4711","external_state":"state-9f2c","scope":"openid fhirUser offline_access patient/*.read",` +
				`"consent_expires_at":"2025-06-13T00:08:31Z","tefca_directory_id":""}`,
		}, true
	case TypeAuthorizationRevoked:
		return sample{
			label: "Patient Authorization Revoked",
			data: `{"org_connection_id":"189484f4-5d6e-4a1b-9c2d-78a8caa3b64a","endpoint_id":"8e2c6b5a-0f3d-4c7e-a1b9-2d4f6e8a0c1b",` +
				`"portal_id":"b7d1e3f5-2a4c-4e6a-8c0e-1f3a5c7e9b2d","brand_id":"c3e5a7b9-4d6f-4a8c-9e0a-2b4d6f8a0c3e","platform_type":"epic","connection_status":"revoked"}`,
		}, true
	}
	return sample{}, false
}

// known lists the registry's types, sorted.
func known() []string {
	return []string{
		TypeAuthorizationRevoked, TypeConnectionSuccess, TypeEHIExportFailed,
		TypeEHIExportSuccess, event.TypePing, TypeWebhookTest,
	}
}

// Types returns every type the registry knows, the provider's five and
// [event.TypePing], sorted, as a new slice.
func Types() []string {
	return known()
}

// Sample returns a realistic data object for typ, ready for [event.New], as
// a fresh copy the caller may modify. It returns false for an unknown type.
func Sample(typ string) (json.RawMessage, bool) {
	s, ok := lookup(typ)
	if !ok {
		return nil, false
	}
	return json.RawMessage(s.data), true
}

// Describe returns a human label for typ, such as "Patient EHI Export
// Success", or "" for an unknown type.
func Describe(typ string) string {
	s, _ := lookup(typ)
	return s.label
}
