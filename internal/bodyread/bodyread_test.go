package bodyread

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// countingReader counts the bytes taken from it.
type countingReader struct {
	r    io.Reader
	read int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

func TestAppend(t *testing.T) {
	body := strings.Repeat("x", 3000)
	for _, tc := range []struct {
		name    string
		n, hint int64
		want    int
	}{
		{"whole body, length known", 10000, 3000, 3000},
		{"whole body, length unknown", 10000, -1, 3000},
		{"exactly n", 3000, -1, 3000},
		{"stops at n", 1000, 3000, 1000},
		{"n zero", 0, 3000, 0},
		{"hint smaller than the body", 10000, 10, 3000},
		{"no bound", math.MaxInt64, -1, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &countingReader{r: iotest.HalfReader(strings.NewReader(body))}
			got, err := Append([]byte("pre:"), src, tc.n, tc.hint)
			require.NoError(t, err)
			require.Equal(t, "pre:"+body[:tc.want], string(got))
			require.Equal(t, tc.want, src.read, "reads nothing beyond n bytes")
		})
	}
}

func TestAppendError(t *testing.T) {
	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom))
	got, err := Append(nil, src, 100, -1)
	require.ErrorIs(t, err, boom)
	require.Equal(t, "abc", string(got), "the bytes read before the error are returned")
}

func TestAppendAll(t *testing.T) {
	got, err := AppendAll(nil, strings.NewReader("12345"), 5, 5)
	require.NoError(t, err)
	require.Equal(t, "12345", string(got))

	src := &countingReader{r: strings.NewReader("123456789")}
	_, err = AppendAll(nil, src, 5, -1)
	var mbe *http.MaxBytesError
	require.ErrorAs(t, err, &mbe)
	require.EqualValues(t, 5, mbe.Limit)
	require.Equal(t, 6, src.read, "reads one byte past the limit, no more")

	got, err = AppendAll(nil, strings.NewReader("abc"), math.MaxInt64, -1)
	require.NoError(t, err, "no overflow at the largest limit")
	require.Equal(t, "abc", string(got))
}

// TestDeclaredLengthCapsFirstAllocation: a body declaring the whole limit
// and sending a few bytes costs at most initialBuffer, not the declared
// length.
func TestDeclaredLengthCapsFirstAllocation(t *testing.T) {
	const limit = 8 << 20
	got, err := AppendAll(nil, strings.NewReader(`{"a":1}`), limit, limit)
	require.NoError(t, err)
	require.Equal(t, `{"a":1}`, string(got))
	require.LessOrEqual(t, cap(got), initialBuffer)

	// A larger body still arrives whole: the buffer grows as it does.
	big := bytes.Repeat([]byte("y"), 3*initialBuffer)
	got, err = AppendAll(nil, bytes.NewReader(big), limit, limit)
	require.NoError(t, err)
	require.Equal(t, big, got)
}

// firstBuffer remembers the buffer of its first Read.
type firstBuffer struct {
	r     io.Reader
	first *byte
}

func (f *firstBuffer) Read(p []byte) (int, error) {
	if f.first == nil && len(p) > 0 {
		f.first = &p[0]
	}
	return f.r.Read(p)
}

// TestDeclaredLengthFitsWithoutGrowing: a body of its declared length (up
// to initialBuffer) is read into the first allocation, EOF included.
func TestDeclaredLengthFitsWithoutGrowing(t *testing.T) {
	body := bytes.Repeat([]byte("z"), 5000)
	src := &firstBuffer{r: iotest.OneByteReader(bytes.NewReader(body))}
	got, err := AppendAll(nil, src, 1<<20, int64(len(body)))
	require.NoError(t, err)
	require.Equal(t, body, got)
	require.Same(t, src.first, &got[0], "the buffer was not reallocated")
}

// TestReusesRoom: a buffer with room for the body is not reallocated.
func TestReusesRoom(t *testing.T) {
	buf := make([]byte, 0, 4096)
	got, err := AppendAll(buf, strings.NewReader("hello"), 1<<20, -1)
	require.NoError(t, err)
	require.Equal(t, "hello", string(got))
	require.Same(t, &buf[:1][0], &got[0])
}
