package fasten

import (
	"errors"
	"fmt"
	"time"
)

// The provider's event types.
const (
	// TypeEHIExportSuccess: a patient's electronic health information
	// export finished; data is [EHIExportSuccess]. Enabled by default.
	TypeEHIExportSuccess = "patient.ehi_export_success"
	// TypeEHIExportFailed: a patient's export failed; data is
	// [EHIExportFailed]. Enabled by default.
	TypeEHIExportFailed = "patient.ehi_export_failed"
	// TypeWebhookTest: sent by the provider's simulator; data is
	// [WebhookTest].
	TypeWebhookTest = "webhook.test"
	// TypeConnectionSuccess: a patient connected to a health system and
	// closed the popup; data is [ConnectionSuccess]. Beta, enabled per
	// endpoint.
	TypeConnectionSuccess = "patient.connection_success"
	// TypeAuthorizationRevoked: a patient's authorization was revoked; data
	// is [AuthorizationRevoked]. Not enabled by default; may arrive in
	// bulk. (Documented only by a third-party summary of the provider's
	// docs.)
	TypeAuthorizationRevoked = "patient.authorization_revoked"
)

// ErrMissingField is wrapped by the Validate methods when a required data
// field is absent or empty.
var ErrMissingField = errors.New("fasten: missing required field")

func missing(typ, field string) error {
	return fmt.Errorf("%w: %s: %s", ErrMissingField, typ, field)
}

// DownloadLink is one file of an export. The client should follow
// redirects when fetching URL.
type DownloadLink struct {
	// URL is a signed URL to the export file.
	URL string `json:"url"`
	// ExportType is the file's format, such as "jsonl".
	ExportType string `json:"export_type"`
	// ContentType is the file's media type, such as
	// "application/fhir+ndjson".
	ContentType string `json:"content_type"`
}

// Stats counts the FHIR resources an export collected.
type Stats struct {
	// TotalResources is the number of resources in the export.
	TotalResources int `json:"total_resources"`
	// TotalByResourceType maps a FHIR resource type, such as "Observation",
	// to its count. It may be absent.
	TotalByResourceType map[string]int `json:"total_by_resource_type,omitempty"`
}

// EHIExportSuccess is the data of [TypeEHIExportSuccess].
type EHIExportSuccess struct {
	// DownloadLinks holds one link by default (JSONL of FHIR resources),
	// more when extra formats are enabled. Required.
	DownloadLinks []DownloadLink `json:"download_links"`
	// DownloadLink is the single URL older payloads carry instead of
	// DownloadLinks.
	//
	// Deprecated: use DownloadLinks; see [EHIExportSuccess.Links].
	DownloadLink string `json:"download_link,omitempty"`
	// OrgConnectionID identifies the patient's connection to the
	// organization.
	OrgConnectionID string `json:"org_connection_id,omitempty"`
	TaskID          string `json:"task_id,omitempty"`
	OrgID           string `json:"org_id,omitempty"`
	// Stats is documented as required, though the provider's own envelope
	// example omits it; Validate therefore does not insist on it.
	Stats Stats `json:"stats"`
}

// Links returns DownloadLinks, or a single link built from the deprecated
// DownloadLink (ExportType "jsonl", ContentType "application/fhir+ndjson")
// when only that is set. It returns a new slice.
func (d EHIExportSuccess) Links() []DownloadLink {
	if len(d.DownloadLinks) > 0 {
		return append([]DownloadLink(nil), d.DownloadLinks...)
	}
	if d.DownloadLink != "" {
		return []DownloadLink{{URL: d.DownloadLink, ExportType: "jsonl", ContentType: "application/fhir+ndjson"}}
	}
	return nil
}

// Validate returns an error wrapping [ErrMissingField] unless the data has
// at least one download link (in DownloadLinks or the deprecated
// DownloadLink) and every link has a URL.
func (d EHIExportSuccess) Validate() error {
	if len(d.DownloadLinks) == 0 && d.DownloadLink == "" {
		return missing(TypeEHIExportSuccess, "download_links")
	}
	for _, l := range d.DownloadLinks {
		if l.URL == "" {
			return missing(TypeEHIExportSuccess, "download_links[].url")
		}
	}
	return nil
}

// FailureReason says why an export failed.
type FailureReason string

// The documented failure reasons. Treat unknown values like
// [ReasonSuppressedPleaseContact].
const (
	// ReasonTokenRefreshFailure: refreshing the access token failed.
	ReasonTokenRefreshFailure FailureReason = "token_refresh_failure"
	// ReasonScopePatientMissing: the token lacks the patient/*.read or
	// patient/Patient.read scope, usually because the patient unchecked
	// "Demographics" during consent.
	ReasonScopePatientMissing FailureReason = "scope_patient_missing"
	// ReasonResourcePatientFailure: fetching the Patient resource failed.
	ReasonResourcePatientFailure FailureReason = "resource_patient_failure"
	// ReasonResourceInvalidContent: a critical FHIR resource did not parse.
	ReasonResourceInvalidContent FailureReason = "resource_invalid_content"
	// ReasonSuppressedPleaseContact: the provider hid the cause because it
	// may contain protected health information; the default value.
	ReasonSuppressedPleaseContact FailureReason = "suppressed_please_contact"
	// ReasonTEFCANoDocumentsFound: no documents were found through TEFCA.
	// (Documented only by a third-party summary.)
	ReasonTEFCANoDocumentsFound FailureReason = "tefca_no_documents_found"
)

// FailureReasons returns the documented failure reasons, in the order
// above, as a new slice.
func FailureReasons() []FailureReason {
	return []FailureReason{
		ReasonTokenRefreshFailure, ReasonScopePatientMissing, ReasonResourcePatientFailure,
		ReasonResourceInvalidContent, ReasonSuppressedPleaseContact, ReasonTEFCANoDocumentsFound,
	}
}

// Known reports whether r is one of the documented reasons.
func (r FailureReason) Known() bool {
	for _, k := range FailureReasons() {
		if r == k {
			return true
		}
	}
	return false
}

// EHIExportFailed is the data of [TypeEHIExportFailed].
type EHIExportFailed struct {
	// FailureReason is required.
	FailureReason   FailureReason `json:"failure_reason"`
	OrgConnectionID string        `json:"org_connection_id,omitempty"`
	TaskID          string        `json:"task_id,omitempty"`
	OrgID           string        `json:"org_id,omitempty"`
}

// Validate returns an error wrapping [ErrMissingField] if FailureReason is
// empty. Unknown reasons are accepted.
func (d EHIExportFailed) Validate() error {
	if d.FailureReason == "" {
		return missing(TypeEHIExportFailed, "failure_reason")
	}
	return nil
}

// WebhookTest is the data of [TypeWebhookTest]: {"hello":"world"} and a
// random string.
type WebhookTest struct {
	Hello  string `json:"hello"`
	Random string `json:"random"`
}

// Validate always returns nil: the test event has no required fields.
func (d WebhookTest) Validate() error { return nil }

// ConnectionStatus is the state of a patient's connection.
type ConnectionStatus string

// The connection statuses.
const (
	StatusAuthorized ConnectionStatus = "authorized"
	StatusRevoked    ConnectionStatus = "revoked"
)

// ConnectionSuccess is the data of [TypeConnectionSuccess].
type ConnectionSuccess struct {
	// OrgConnectionID identifies the connection between the patient and
	// the organization; store it to make API calls for the patient later.
	// Required.
	OrgConnectionID string `json:"org_connection_id"`
	// EndpointID, PortalID and BrandID identify the health system's
	// endpoint, portal and brand, for metadata and branding.
	EndpointID       string           `json:"endpoint_id,omitempty"`
	PortalID         string           `json:"portal_id,omitempty"`
	BrandID          string           `json:"brand_id,omitempty"`
	ConnectionStatus ConnectionStatus `json:"connection_status,omitempty"`
	// PlatformType is the health system's platform, such as "epic".
	PlatformType  string `json:"platform_type,omitempty"`
	ExternalID    string `json:"external_id,omitempty"`
	ExternalState string `json:"external_state,omitempty"`
	Scope         string `json:"scope,omitempty"`
	// ConsentExpiresAt is an RFC 3339 timestamp, or empty; see
	// [ConnectionSuccess.ConsentExpiry]. It is a string because the
	// provider's examples send "" for unknown values.
	ConsentExpiresAt string `json:"consent_expires_at,omitempty"`
	TEFCADirectoryID string `json:"tefca_directory_id,omitempty"`
}

// ConsentExpiry parses ConsentExpiresAt. It returns false if the field is
// empty or not RFC 3339.
func (d ConnectionSuccess) ConsentExpiry() (time.Time, bool) {
	if d.ConsentExpiresAt == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, d.ConsentExpiresAt)
	return t, err == nil
}

// Validate returns an error wrapping [ErrMissingField] if OrgConnectionID
// is empty.
func (d ConnectionSuccess) Validate() error {
	if d.OrgConnectionID == "" {
		return missing(TypeConnectionSuccess, "org_connection_id")
	}
	return nil
}

// AuthorizationRevoked is the data of [TypeAuthorizationRevoked].
type AuthorizationRevoked struct {
	// OrgConnectionID is required.
	OrgConnectionID string `json:"org_connection_id"`
	EndpointID      string `json:"endpoint_id,omitempty"`
	PortalID        string `json:"portal_id,omitempty"`
	BrandID         string `json:"brand_id,omitempty"`
	PlatformType    string `json:"platform_type,omitempty"`
	// ConnectionStatus is [StatusRevoked].
	ConnectionStatus ConnectionStatus `json:"connection_status,omitempty"`
}

// Validate returns an error wrapping [ErrMissingField] if OrgConnectionID
// is empty.
func (d AuthorizationRevoked) Validate() error {
	if d.OrgConnectionID == "" {
		return missing(TypeAuthorizationRevoked, "org_connection_id")
	}
	return nil
}
