package retry_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/webhookkit/webhookkit/retry"
)

// The zero Schedule is the default schedule without jitter; Default adds
// ±20% jitter to the same delays.
func ExampleSchedule() {
	var p retry.Policy = retry.Schedule{}
	var age time.Duration
	for n := 1; ; n++ {
		delay, ok := p.Next(retry.Failure{Number: n, StatusCode: 503, Age: age})
		if !ok {
			fmt.Printf("attempt %d fails: give up\n", n)
			return
		}
		age += delay
		fmt.Printf("attempt %d fails: wait %v, next attempt at +%v\n", n, delay, age)
	}
	// Output:
	// attempt 1 fails: wait 5s, next attempt at +5s
	// attempt 2 fails: wait 5m0s, next attempt at +5m5s
	// attempt 3 fails: wait 30m0s, next attempt at +35m5s
	// attempt 4 fails: wait 2h0m0s, next attempt at +2h35m5s
	// attempt 5 fails: wait 5h0m0s, next attempt at +7h35m5s
	// attempt 6 fails: wait 10h0m0s, next attempt at +17h35m5s
	// attempt 7 fails: wait 14h0m0s, next attempt at +31h35m5s
	// attempt 8 fails: wait 20h0m0s, next attempt at +51h35m5s
	// attempt 9 fails: wait 24h0m0s, next attempt at +75h35m5s
	// attempt 10 fails: give up
}

func ExampleClassify() {
	for _, status := range []int{200, 301, 401, 410, 429, 503} {
		fmt.Println(status, retry.Classify(status, nil))
	}
	fmt.Println("timeout", retry.Classify(0, errors.New("i/o timeout")))

	strict := retry.Classifier{PermanentStatus: retry.ClientError}
	fmt.Println("strict 401", strict.Classify(401, nil))
	// Output:
	// 200 success
	// 301 retry
	// 401 retry
	// 410 gone
	// 429 retry
	// 503 retry
	// timeout retry
	// strict 401 permanent
}

var errMalformed = errors.New("malformed order")

func ExamplePermanent() {
	// A receiver callback marks an error it will never get past.
	handle := func() error {
		return retry.Permanent(fmt.Errorf("order 42: %w", errMalformed))
	}
	err := handle()

	fmt.Println(err)
	fmt.Println(errors.Is(err, errMalformed))
	fmt.Println(retry.Classify(0, err))
	_, ok := retry.Default().Next(retry.Failure{Number: 1, Err: err})
	fmt.Println("retry:", ok)
	// Output:
	// order 42: malformed order
	// true
	// permanent
	// retry: false
}

func ExampleAfter() {
	// A receiver callback knows when its dependency will be back.
	err := retry.After(2*time.Minute, errors.New("inventory service restarting"))

	delay, ok := retry.Default().Next(retry.Failure{Number: 1, Err: err})
	fmt.Println(delay, ok)
	// Output:
	// 2m0s true
}

func ExampleExponential() {
	// Millisecond backoff for a test: 100 ms floor, jitter above it.
	p := retry.Exponential{
		Base: 10 * time.Millisecond, Max: 40 * time.Millisecond,
		MinDelay: 100 * time.Millisecond, MaxAttempts: 5,
		Rand: func() float64 { return 0.5 }, // deterministic for the example
	}
	for n := 1; n <= 5; n++ {
		delay, ok := p.Next(retry.Failure{Number: n})
		fmt.Println(n, delay, ok)
	}
	// Output:
	// 1 105ms true
	// 2 110ms true
	// 3 120ms true
	// 4 120ms true
	// 5 0s false
}
