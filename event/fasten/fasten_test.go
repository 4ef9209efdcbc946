package fasten_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/event"
	"github.com/webhookkit/webhookkit/event/fasten"
)

// strict decodes data into T rejecting unknown fields, so a sample field
// whose name does not match a json tag fails the test.
func strict[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&v))
	return v
}

func TestCatalog(t *testing.T) {
	cat := fasten.Catalog()
	require.Same(t, cat, fasten.Catalog(), "one immutable catalog")
	var types []string
	for _, info := range cat.Types() {
		types = append(types, info.Type)
	}
	require.Equal(t, []string{
		"patient.authorization_revoked", "patient.connection_success", "patient.ehi_export_failed",
		"patient.ehi_export_success", "ping", "webhook.test",
	}, types)

	require.NoError(t, cat.Check(fasten.TypeEHIExportSuccess))
	require.ErrorIs(t, cat.Check("patient.ehi_export_succes"), event.ErrUnknownType)
	require.True(t, cat.Match("patient.*"))
	require.False(t, cat.Match("order.*"))
}

func TestSamples(t *testing.T) {
	tests := []struct {
		typ   string
		label string
		check func(t *testing.T, data []byte)
	}{
		{event.TypePing, "Ping", func(t *testing.T, data []byte) {
			m := strict[map[string]string](t, data)
			require.NotEmpty(t, m["message"])
		}},
		{fasten.TypeEHIExportSuccess, "Patient EHI Export Success", func(t *testing.T, data []byte) {
			d := strict[fasten.EHIExportSuccess](t, data)
			require.NoError(t, d.Validate())
			require.Len(t, d.DownloadLinks, 1)
			require.Equal(t, "jsonl", d.DownloadLinks[0].ExportType)
			require.Equal(t, "application/fhir+ndjson", d.DownloadLinks[0].ContentType)
			require.Contains(t, d.DownloadLinks[0].URL, "https://")
			require.Empty(t, d.DownloadLink)
			require.NotEmpty(t, d.OrgConnectionID)
			require.NotEmpty(t, d.TaskID)
			require.NotEmpty(t, d.OrgID)
			sum := 0
			for _, n := range d.Stats.TotalByResourceType {
				sum += n
			}
			require.Positive(t, d.Stats.TotalResources)
			require.Equal(t, d.Stats.TotalResources, sum, "stats add up")
		}},
		{fasten.TypeEHIExportFailed, "Patient EHI Export Failed", func(t *testing.T, data []byte) {
			d := strict[fasten.EHIExportFailed](t, data)
			require.NoError(t, d.Validate())
			require.Equal(t, fasten.ReasonSuppressedPleaseContact, d.FailureReason)
			require.True(t, d.FailureReason.Known())
			require.NotEmpty(t, d.TaskID)
		}},
		{fasten.TypeWebhookTest, "Webhook Test", func(t *testing.T, data []byte) {
			d := strict[fasten.WebhookTest](t, data)
			require.NoError(t, d.Validate())
			require.Equal(t, "world", d.Hello)
			require.NotEmpty(t, d.Random)
		}},
		{fasten.TypeConnectionSuccess, "Patient Connection Success", func(t *testing.T, data []byte) {
			d := strict[fasten.ConnectionSuccess](t, data)
			require.NoError(t, d.Validate())
			require.Equal(t, fasten.StatusAuthorized, d.ConnectionStatus)
			require.Equal(t, "epic", d.PlatformType)
			exp, ok := d.ConsentExpiry()
			require.True(t, ok)
			require.Equal(t, time.Date(2025, 6, 13, 0, 8, 31, 0, time.UTC), exp.UTC())
		}},
		{fasten.TypeAuthorizationRevoked, "Patient Authorization Revoked", func(t *testing.T, data []byte) {
			d := strict[fasten.AuthorizationRevoked](t, data)
			require.NoError(t, d.Validate())
			require.Equal(t, fasten.StatusRevoked, d.ConnectionStatus)
			require.NotEmpty(t, d.OrgConnectionID)
		}},
	}
	require.Len(t, tests, len(fasten.Catalog().Types()), "every type is tested")
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			info, ok := fasten.Catalog().Lookup(tt.typ)
			require.True(t, ok)
			require.Equal(t, tt.label, info.Description)
			data := info.Sample
			tt.check(t, data)

			// A sample makes a valid event that survives strict decoding.
			e, err := event.New(event.ModeTest, tt.typ, data)
			require.NoError(t, err)
			b, err := e.MarshalJSON()
			require.NoError(t, err)
			back, err := event.Decode(b)
			require.NoError(t, err)
			require.Equal(t, string(data), string(back.Data))

			// Each call returns a fresh copy.
			data[0] = 'X'
			again, _ := fasten.Catalog().Lookup(tt.typ)
			require.Equal(t, byte('{'), again.Sample[0])
		})
	}

	_, ok := fasten.Catalog().Lookup("patient.unknown")
	require.False(t, ok)
}

func TestTypeConstantsAreValid(t *testing.T) {
	for _, info := range fasten.Catalog().Types() {
		require.NoError(t, event.ValidType(info.Type))
		require.True(t, event.Pattern("*").Match(info.Type))
	}
	require.True(t, event.Pattern("patient.*").Match(fasten.TypeEHIExportSuccess))
	require.False(t, event.Pattern("patient.*").Match(fasten.TypeWebhookTest))
}

func TestSeedExampleData(t *testing.T) {
	b, err := os.ReadFile("../testdata/seed000.json")
	require.NoError(t, err)
	e, err := event.Decode(b)
	require.NoError(t, err)
	d, err := event.DataAs[fasten.EHIExportSuccess](e)
	require.NoError(t, err)
	require.NoError(t, d.Validate())
	require.Equal(t, "fedec7b78cf6905872032b426473", d.TaskID)
	require.Equal(t, []fasten.DownloadLink{{
		URL:         "https://api.connect.fastenhealth.com/v1/bridge/fhir/ehi-export/fedec7b7-8cf6-4bc9-72032b426473/download/2024-06-12-6715-4ae4-bde5-ab97519bd1fa.jsonl",
		ExportType:  "jsonl",
		ContentType: "application/fhir+ndjson",
	}}, d.Links())
}

func TestDeprecatedDownloadLink(t *testing.T) {
	var d fasten.EHIExportSuccess
	require.NoError(t, json.Unmarshal([]byte(`{"download_link":"https://x.test/a.jsonl","task_id":"t","stats":{"total_resources":12}}`), &d))
	require.NoError(t, d.Validate())
	require.Equal(t, []fasten.DownloadLink{{URL: "https://x.test/a.jsonl", ExportType: "jsonl", ContentType: "application/fhir+ndjson"}}, d.Links())
	require.Equal(t, 12, d.Stats.TotalResources)
	require.Nil(t, fasten.EHIExportSuccess{}.Links())
}

func TestValidateMissing(t *testing.T) {
	for name, v := range map[string]interface{ Validate() error }{
		"success without links": fasten.EHIExportSuccess{},
		"success link no url":   fasten.EHIExportSuccess{DownloadLinks: []fasten.DownloadLink{{ExportType: "jsonl"}}},
		"failed without reason": fasten.EHIExportFailed{TaskID: "t"},
		"connection without id": fasten.ConnectionSuccess{PlatformType: "epic"},
		"revoked without id":    fasten.AuthorizationRevoked{ConnectionStatus: fasten.StatusRevoked},
	} {
		err := v.Validate()
		require.ErrorIs(t, err, fasten.ErrMissingField, name)
		require.Contains(t, err.Error(), "fasten: ", name)
	}
}

func TestFailureReasons(t *testing.T) {
	reasons := fasten.FailureReasons()
	require.Len(t, reasons, 6)
	for _, r := range reasons {
		require.True(t, r.Known())
	}
	require.False(t, fasten.FailureReason("disk_full").Known())
	reasons[0] = "x"
	require.Equal(t, fasten.ReasonTokenRefreshFailure, fasten.FailureReasons()[0])
}

func TestConsentExpiry(t *testing.T) {
	_, ok := fasten.ConnectionSuccess{}.ConsentExpiry()
	require.False(t, ok)
	_, ok = fasten.ConnectionSuccess{ConsentExpiresAt: "soon"}.ConsentExpiry()
	require.False(t, ok)
	got, ok := fasten.ConnectionSuccess{ConsentExpiresAt: "2025-01-02T03:04:05+01:00"}.ConsentExpiry()
	require.True(t, ok)
	require.Equal(t, time.Date(2025, 1, 2, 2, 4, 5, 0, time.UTC), got.UTC())
}
