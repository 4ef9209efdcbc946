package signature_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/webhookkit/webhookkit/signature"
)

// Benchmarks compare this package with raw crypto/hmac on the same bytes: one
// keyed hash.Hash reused with Reset per operation over id.timestamp.body
// (the cheapest correct HMAC, the baseline the package's overhead is
// measured against), and with the reference library. Read the ratio
// between the sub-benchmarks of one size, e.g.
//
//	go test -run '^$' -bench 'Sign|Verify|RawHMAC' -benchtime=200ms ./internal/integration/signature

var benchSizes = []struct {
	name string
	n    int
}{{"1KiB", 1 << 10}, {"16KiB", 16 << 10}, {"256KiB", 256 << 10}}

type benchCase struct {
	id, ts string
	now    time.Time
	body   []byte
	msg    []byte // id.ts.body
	key    []byte
	text   string
}

func newBenchCase(n int) benchCase {
	key := make([]byte, signature.DefaultSecretLength)
	for i := range key {
		key[i] = byte(i * 7)
	}
	body := make([]byte, n)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	now := time.Unix(time.Now().Unix(), 0)
	c := benchCase{id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", ts: strconv.FormatInt(now.Unix(), 10), now: now, body: body, key: key,
		text: "whsec_" + base64.StdEncoding.EncodeToString(key)}
	c.msg = append([]byte(c.id+"."+c.ts+"."), body...)
	return c
}

func rawHMAC(b *testing.B, c benchCase) {
	h := hmac.New(sha256.New, c.key)
	var sum [sha256.Size]byte
	b.SetBytes(int64(len(c.body)))
	b.ReportAllocs()
	for b.Loop() {
		h.Reset()
		h.Write(c.msg)
		h.Sum(sum[:0])
	}
}

func BenchmarkRawHMAC(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) { rawHMAC(b, newBenchCase(size.n)) })
	}
}

func BenchmarkSign(b *testing.B) {
	for _, size := range benchSizes {
		c := newBenchCase(size.n)
		sec := mustSecret(b, c.text)
		b.Run(size.name+"/rawhmac", func(b *testing.B) { rawHMAC(b, c) })
		b.Run(size.name+"/signature", func(b *testing.B) {
			s := newSigner(b, []signature.Secret{sec})
			dst := make([]byte, 0, 64)
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				dst = s.AppendSign(dst[:0], c.id, c.now, c.body)
			}
		})
		b.Run(size.name+"/signature-string", func(b *testing.B) {
			s := newSigner(b, []signature.Secret{sec})
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				_ = s.Sign(c.id, c.now, c.body)
			}
		})
		b.Run(size.name+"/reference", func(b *testing.B) {
			ref, err := standardwebhooks.NewWebhook(c.text)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ref.Sign(c.id, c.now, c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, size := range benchSizes {
		c := newBenchCase(size.n)
		sec := mustSecret(b, c.text)
		h := http.Header{}
		newSigner(b, []signature.Secret{sec}).SignHeader(h, c.id, c.now, c.body)

		b.Run(size.name+"/rawhmac", func(b *testing.B) { rawHMAC(b, c) })
		b.Run(size.name+"/signature", func(b *testing.B) {
			v, err := signature.NewVerifier([]signature.Secret{sec}, nil, nil) // real clock
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Verify(h, c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(size.name+"/reference", func(b *testing.B) {
			ref, err := standardwebhooks.NewWebhook(c.text)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := ref.Verify(c.body, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyEd25519 measures v1a verification, which hashes the body with
// SHA-512 and costs one curve operation; there is no HMAC baseline for it.
func BenchmarkVerifyEd25519(b *testing.B) {
	key := newKey(b)
	for _, size := range benchSizes {
		c := newBenchCase(size.n)
		h := http.Header{}
		newSigner(b, nil, key).SignHeader(h, c.id, c.now, c.body)
		b.Run(size.name, func(b *testing.B) {
			v, err := signature.NewVerifier(nil, []signature.PublicKey{key.Public()}, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Verify(h, c.body); err != nil {
					b.Fatal(fmt.Sprint(err))
				}
			}
		})
	}
}
