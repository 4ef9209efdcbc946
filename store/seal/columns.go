package seal

import (
	"encoding/json"

	"github.com/webhookkit/webhookkit/store"
)

// oauth2JSON and tlsJSON are the JSON forms of an endpoint's OAuth2 and
// TLS settings in the SQL stores' oauth2 and client_tls columns.
type oauth2JSON struct {
	TokenURL     string   `json:"token_url"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`
}

type tlsJSON struct {
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
	CA   string `json:"ca,omitempty"`
}

// EncodeCredentials returns the JSON the SQL stores keep for ep's OAuth2
// and TLS settings, nil for those not set. Seal ep first ([Policy.Seal]).
func EncodeCredentials(ep *store.Endpoint) (oauth2, tls []byte, err error) {
	if o := ep.OAuth2; o != nil {
		if oauth2, err = json.Marshal(oauth2JSON{o.TokenURL, o.ClientID, o.ClientSecret, o.Scopes, o.Audience}); err != nil {
			return nil, nil, err
		}
	}
	if t := ep.TLS; t != nil {
		if tls, err = json.Marshal(tlsJSON{t.CertPEM, t.KeyPEM, t.CAPEM}); err != nil {
			return nil, nil, err
		}
	}
	return oauth2, tls, nil
}

// DecodeCredentials sets ep's OAuth2 and TLS settings from the JSON
// [EncodeCredentials] made; nil or empty leaves a field nil. Open ep
// afterwards ([Policy.Open]).
func DecodeCredentials(ep *store.Endpoint, oauth2, tls []byte) error {
	if len(oauth2) > 0 && string(oauth2) != "null" {
		var o oauth2JSON
		if err := json.Unmarshal(oauth2, &o); err != nil {
			return err
		}
		ep.OAuth2 = &store.OAuth2{TokenURL: o.TokenURL, ClientID: o.ClientID, ClientSecret: o.ClientSecret, Scopes: o.Scopes, Audience: o.Audience}
	}
	if len(tls) > 0 && string(tls) != "null" {
		var t tlsJSON
		if err := json.Unmarshal(tls, &t); err != nil {
			return err
		}
		ep.TLS = &store.ClientTLS{CertPEM: t.Cert, KeyPEM: t.Key, CAPEM: t.CA}
	}
	return nil
}
