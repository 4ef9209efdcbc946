package main

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/webhookkit/webhookkit/event/fasten"
)

// The Standard Webhooks test vector: the signature the specification's
// reference libraries compute for this secret, id, timestamp and body.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = "1614265330"
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSecret(t *testing.T) {
	t.Parallel()
	r := cli(t, "", "secret")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `^whsec_[A-Za-z0-9+/]+={0,2}\n$`, r.stdout)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(r.stdout, "whsec_"), "\n"))
	require.NoError(t, err)
	require.Len(t, raw, 32)
	require.NotEqual(t, r.stdout, cli(t, "", "secret").stdout, "two secrets must differ")

	r = cli(t, "", "secret", "--asymmetric")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 2)
	require.True(t, strings.HasPrefix(lines[0], "whsk_"), lines[0])
	require.True(t, strings.HasPrefix(lines[1], "whpk_"), lines[1])
	require.Contains(t, r.stderr, "private key")
}

func TestSignVector(t *testing.T) {
	t.Parallel()
	r := cli(t, vecBody, "sign", "--secret", vecSecret, "--id", vecID, "--timestamp", vecTS)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "webhook-id: "+vecID+"\nwebhook-timestamp: "+vecTS+"\nwebhook-signature: "+vecSig+"\n", r.stdout)

	r = cli(t, vecBody, "verify", "--secret", vecSecret, "--id", vecID, "--timestamp", vecTS,
		"--signature", vecSig, "--tolerance", "2000000h")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "valid\n", r.stdout)

	// The same vector is too old for the default tolerance.
	r = cli(t, vecBody, "verify", "--secret", vecSecret, "--id", vecID, "--timestamp", vecTS, "--signature", vecSig)
	require.Equal(t, 1, r.code)
	require.Empty(t, r.stdout)
	require.Contains(t, r.stderr, "timestamp too old")
}

func TestSignDefaults(t *testing.T) {
	t.Parallel()
	r := cli(t, "{}", "sign", "--secret", vecSecret)
	require.Equal(t, 0, r.code, r.stderr)
	m := regexp.MustCompile(`^webhook-id: (\S+)\nwebhook-timestamp: (\d+)\nwebhook-signature: v1,\S+\n$`).FindStringSubmatch(r.stdout)
	require.NotNil(t, m, r.stdout)
	id, err := uuid.Parse(m[1])
	require.NoError(t, err)
	require.Equal(t, uuid.Version(4), id.Version())
}

func TestSignPipedToVerify(t *testing.T) {
	t.Parallel()
	body := writeFile(t, "body.json", `{"type":"ping","data":{}}`+"\n")
	tampered := writeFile(t, "tampered.json", `{"type":"ping","data":{"x":1}}`+"\n")
	kp := strings.Split(cli(t, "", "secret", "--asymmetric").stdout, "\n")
	sk, pk := kp[0], kp[1]
	other := strings.TrimSpace(cli(t, "", "secret").stdout)

	tests := []struct {
		name       string
		signWith   []string
		verifyWith []string
		body       string
		wantCode   int
		wantErr    string
	}{
		{"symmetric", []string{vecSecret}, []string{vecSecret}, body, 0, ""},
		{"asymmetric", []string{sk}, []string{pk}, body, 0, ""},
		{"rotation: verifier holds the new secret", []string{vecSecret, other}, []string{other}, body, 0, ""},
		{"rotation: either of two verifier secrets", []string{other}, []string{vecSecret, other}, body, 0, ""},
		{"tampered body", []string{vecSecret}, []string{vecSecret}, tampered, 1, "no matching signature"},
		{"wrong secret", []string{vecSecret}, []string{other}, body, 1, "no matching signature"},
		{"v1a without the public key", []string{sk}, []string{vecSecret}, body, 1, "no matching signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var args []string
			for _, s := range tc.signWith {
				args = append(args, "--secret", s)
			}
			signed := cli(t, "", append(append([]string{"sign"}, args...), body)...)
			require.Equal(t, 0, signed.code, signed.stderr)
			headers := writeFile(t, "headers.txt", signed.stdout)

			args = []string{"verify"}
			for _, s := range tc.verifyWith {
				args = append(args, "--secret", s)
			}
			// Headers from a file and body from stdin, then headers
			// from stdin and body from a file: both must agree.
			content := readFileT(t, tc.body)
			viaFile := cli(t, content, append(args, "--headers", headers)...)
			viaStdin := cli(t, signed.stdout, append(args, "--headers", "-", tc.body)...)
			for _, r := range []result{viaFile, viaStdin} {
				require.Equal(t, tc.wantCode, r.code, r.stderr)
				if tc.wantCode == 0 {
					require.Equal(t, "valid\n", r.stdout)
					continue
				}
				require.Empty(t, r.stdout)
				require.Contains(t, r.stderr, tc.wantErr)
			}
		})
	}
}

func TestSecretFromEnvironment(t *testing.T) {
	t.Parallel()
	// cli clears WEBHOOK_SECRET; without --secret that is a usage error.
	r := cli(t, "{}", "sign")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "WEBHOOK_SECRET")
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "Commands:"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"unknown flag", []string{"sign", "--secret", vecSecret, "--bogus"}, "flag provided but not defined"},
		{"bad secret", []string{"sign", "--secret", "whsec_short"}, "invalid secret"},
		{"public key cannot sign", []string{"sign", "--secret", "whpk_MlLKJD12XS1qvIl3JK3X5YuWWKOvCtQNYt7YoPbFnrk="}, "cannot sign"},
		{"bad id", []string{"sign", "--secret", vecSecret, "--id", "a.b"}, "--id"},
		{"bad timestamp", []string{"sign", "--secret", vecSecret, "--timestamp", "soon"}, "--timestamp"},
		{"too many files", []string{"sign", "--secret", vecSecret, "a", "b"}, "unexpected argument"},
		{"verify without headers", []string{"verify", "--secret", vecSecret}, "--headers"},
		{"verify with both header sources", []string{"verify", "--secret", vecSecret, "--headers", "h", "--id", "x"}, "not both"},
		{"verify headers and body both on stdin", []string{"verify", "--secret", vecSecret, "--headers", "-"}, "give the body as FILE"},
		{"bad tolerance", []string{"verify", "--secret", vecSecret, "--id", "x", "--tolerance", "soon"}, "invalid value"},
		{"secret takes no arguments", []string{"secret", "extra"}, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, "{}", tc.args...)
			require.Equal(t, 2, r.code, r.stderr)
			require.Empty(t, r.stdout)
			require.Contains(t, r.stderr, tc.want)
			require.Contains(t, r.stderr, "sage", "usage or a pointer to it goes to stderr")
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, "", c.name, "-h")
			require.Equal(t, 0, r.code)
			require.Empty(t, r.stdout)
			require.Contains(t, r.stderr, "Usage: webhook "+c.name)
			require.Contains(t, r.stderr, "Example:\n\n\t$ webhook ")
		})
	}
}

func TestSimulateList(t *testing.T) {
	t.Parallel()
	r := cli(t, "", "simulate", "--list")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	var got []string
	for _, l := range lines {
		var ti typeInfo
		require.NoError(t, json.Unmarshal([]byte(l), &ti), l)
		require.NotEmpty(t, ti.Description, ti.Type)
		got = append(got, ti.Type)
	}
	var want []string
	for _, info := range fasten.Catalog().Types() {
		want = append(want, info.Type)
	}
	require.Equal(t, want, got, "without --catalog: the provider's catalog")
	require.Contains(t, got, "patient.ehi_export_success")
	require.Contains(t, got, "patient.ehi_export_failed")
	require.Contains(t, got, "ping")
}
