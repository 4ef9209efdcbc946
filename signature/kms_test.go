package signature_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webhookkit/webhookkit/signature"
)

type kmsFunc func(ctx context.Context, name string, content []byte) ([]byte, error)

func (f kmsFunc) SignEd25519(ctx context.Context, name string, content []byte) ([]byte, error) {
	return f(ctx, name, content)
}

func TestParseKeyRef(t *testing.T) {
	name, err := signature.ParseKeyRef("whkms_arn:aws:kms:eu-west-1:1:key/abc")
	require.NoError(t, err)
	require.Equal(t, "arn:aws:kms:eu-west-1:1:key/abc", name)
	for _, bad := range []string{"", "whkms_", "whsk_x", "whkms_a b", "whkms_\x00"} {
		_, err := signature.ParseKeyRef(bad)
		require.ErrorIs(t, err, signature.ErrInvalidKey, "%q", bad)
	}
}

// TestAppendSignKMS checks that the KMS gets the signed content and that
// its signature sits beside the local ones; and that a KMS failure, or an
// answer that is not a signature, fails the signing without changing dst.
func TestAppendSignKMS(t *testing.T) {
	key, err := signature.GenerateKey()
	require.NoError(t, err)
	local, err := signature.NewSigner(nil, key)
	require.NoError(t, err)
	id, ts, body := "msg_1", time.Unix(1700000000, 0), []byte("{}")
	var got []byte
	kms := kmsFunc(func(_ context.Context, name string, content []byte) ([]byte, error) {
		require.Equal(t, "k1", name)
		got = append([]byte(nil), content...)
		return nil, nil // not a signature
	})
	_, err = signature.AppendSignKMS(context.Background(), nil, kms, []string{"k1"}, id, ts, body)
	require.ErrorIs(t, err, signature.ErrInvalidKey)
	require.Equal(t, "msg_1.1700000000.{}", string(got))

	want := local.Sign(id, ts, body)
	// A KMS holding the same key returns the signature the local key makes
	// (Ed25519 is deterministic).
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(want, "v1a,"))
	require.NoError(t, err)
	sign := kmsFunc(func(context.Context, string, []byte) ([]byte, error) { return raw, nil })
	dst := []byte(local.Sign(id, ts, body))
	out, err := signature.AppendSignKMS(context.Background(), dst, sign, []string{"k1"}, id, ts, body)
	require.NoError(t, err)
	require.Equal(t, want+" "+want, string(out))

	boom := errors.New("kms down")
	fail := kmsFunc(func(context.Context, string, []byte) ([]byte, error) { return nil, boom })
	out, err = signature.AppendSignKMS(context.Background(), dst, fail, []string{"k1"}, id, ts, body)
	require.ErrorIs(t, err, boom)
	require.Equal(t, want, string(out))

	_, err = signature.AppendSignKMS(context.Background(), nil, nil, []string{"k1"}, id, ts, body)
	require.ErrorIs(t, err, signature.ErrNoKeys)
}
