package sender

import (
	"fmt"
	"strings"
	"time"

	"github.com/webhookkit/webhookkit/signature"
	"github.com/webhookkit/webhookkit/store"
)

// signer returns a signer over ep's secrets that are active at now (nil
// when all of them are KMS keys), and the names of its active KMS keys,
// built once and reused until the endpoint's active keys change or one of
// them expires.
func (l *perEndpoint) signer(ep *store.Endpoint, now time.Time) (*signature.Signer, []string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.state(ep.ID)
	if (es.signer != nil || len(es.kmsKeys) > 0) && (es.validUntil.IsZero() || now.Before(es.validUntil)) && sameActiveKeys(es.keys, ep.Secrets, now) {
		return es.signer, es.kmsKeys, nil
	}
	var (
		secrets    []signature.Secret
		keys       []signature.PrivateKey
		kms        []string
		texts      []string
		validUntil time.Time
	)
	for i, sec := range ep.Secrets {
		if !sec.Active(now) {
			continue
		}
		if strings.HasPrefix(sec.Key, signature.KeyRefPrefix) {
			name, err := signature.ParseKeyRef(sec.Key)
			if err != nil {
				return nil, nil, errSecret(i, err)
			}
			kms = append(kms, name)
		} else if len(sec.Key) >= len(signature.PrivateKeyPrefix) && sec.Key[:len(signature.PrivateKeyPrefix)] == signature.PrivateKeyPrefix {
			k, err := signature.ParsePrivateKey(sec.Key)
			if err != nil {
				return nil, nil, errSecret(i, err)
			}
			keys = append(keys, k)
		} else {
			s, err := signature.ParseSecret(sec.Key)
			if err != nil {
				return nil, nil, errSecret(i, err)
			}
			secrets = append(secrets, s)
		}
		texts = append(texts, sec.Key)
		if !sec.ExpiresAt.IsZero() && (validUntil.IsZero() || sec.ExpiresAt.Before(validUntil)) {
			validUntil = sec.ExpiresAt
		}
	}
	if len(texts) == 0 {
		return nil, nil, ErrNoActiveSecret
	}
	var sg *signature.Signer
	if len(secrets)+len(keys) > 0 {
		var err error
		if sg, err = signature.NewSigner(secrets, keys...); err != nil {
			return nil, nil, err
		}
	}
	es.keys, es.signer, es.kmsKeys, es.validUntil = texts, sg, kms, validUntil
	return sg, kms, nil
}

func sameActiveKeys(keys []string, secrets []store.SigningKey, now time.Time) bool {
	i := 0
	for _, s := range secrets {
		if !s.Active(now) {
			continue
		}
		if i >= len(keys) || keys[i] != s.Key {
			return false
		}
		i++
	}
	return i == len(keys)
}

func errSecret(i int, err error) error {
	return fmt.Errorf("sender: endpoint secret %d: %w", i, err)
}
