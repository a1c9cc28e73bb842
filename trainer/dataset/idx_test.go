package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// idx builds an IDX file from 32-bit header words and a payload.
func idx(payload []byte, words ...uint32) []byte {
	var b []byte
	for _, w := range words {
		b = binary.BigEndian.AppendUint32(b, w)
	}
	return append(b, payload...)
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImagesRoundTrip(t *testing.T) {
	for _, im := range []*Images{
		{N: 0, Rows: 1, Cols: 1, Pix: []uint8{}},
		{N: 1, Rows: 1, Cols: 1, Pix: []uint8{255}},
		{N: 3, Rows: 2, Cols: 5, Pix: []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 255}},
		// Larger than readChunk, so that the payload buffer has to grow.
		{N: 70, Rows: 31, Cols: 37, Pix: bytes.Repeat([]byte{0, 0, 7, 0, 200}, 70*31*37/5)},
	} {
		var buf bytes.Buffer
		if err := WriteImages(&buf, im); err != nil {
			t.Fatal(err)
		}
		for _, compress := range []bool{false, true} {
			data := buf.Bytes()
			if compress {
				data = gzipped(t, data)
			}
			got, err := ReadImages(bytes.NewReader(data), "x")
			if err != nil {
				t.Fatalf("N=%d gzip=%v: %v", im.N, compress, err)
			}
			if got.N != im.N || got.Rows != im.Rows || got.Cols != im.Cols || !bytes.Equal(got.Pix, im.Pix) {
				t.Errorf("N=%d gzip=%v: got %d %d×%d, want %d %d×%d (or pixels differ)", im.N, compress, got.N, got.Rows, got.Cols, im.N, im.Rows, im.Cols)
			}
			if cap(got.Pix) != len(got.Pix) {
				t.Errorf("N=%d gzip=%v: pixel buffer has spare capacity %d > %d", im.N, compress, cap(got.Pix), len(got.Pix))
			}
			if im.N > 0 && !bytes.Equal(got.Image(im.N-1), im.Pix[(im.N-1)*im.Rows*im.Cols:]) {
				t.Errorf("N=%d gzip=%v: Image(N-1) is wrong", im.N, compress)
			}
		}
	}
}

func TestLabelsRoundTrip(t *testing.T) {
	for _, labels := range [][]uint8{{}, {0}, {9, 0, 3, 3, 1}, bytes.Repeat([]byte{1, 2, 3}, 40000)} {
		var buf bytes.Buffer
		if err := WriteLabels(&buf, labels); err != nil {
			t.Fatal(err)
		}
		for _, compress := range []bool{false, true} {
			data := buf.Bytes()
			if compress {
				data = gzipped(t, data)
			}
			got, err := ReadLabels(bytes.NewReader(data), "x", 10)
			if err != nil {
				t.Fatalf("%d labels gzip=%v: %v", len(labels), compress, err)
			}
			if !bytes.Equal(got, labels) {
				t.Errorf("%d labels gzip=%v: labels differ", len(labels), compress)
			}
		}
	}
}

// Detection is by content: a gzip file needs no ".gz" name and a plain file
// with a ".gz" name is still read as plain.
func TestGzipDetectedByContent(t *testing.T) {
	plain := idx([]byte{1, 2}, labelsMagic, 2)
	for name, data := range map[string][]byte{"plain.gz": plain, "compressed": gzipped(t, plain)} {
		got, err := ReadLabels(bytes.NewReader(data), name, 0)
		if err != nil || !bytes.Equal(got, []byte{1, 2}) {
			t.Errorf("%s: got %v, %v", name, got, err)
		}
	}
}

func TestWriteImagesRejectsBadShapes(t *testing.T) {
	for _, im := range []*Images{
		{N: 1, Rows: 0, Cols: 1, Pix: []uint8{}},
		{N: 2, Rows: 1, Cols: 1, Pix: []uint8{1}},
		{N: -1, Rows: 1, Cols: 1},
	} {
		if err := WriteImages(io.Discard, im); err == nil {
			t.Errorf("WriteImages(%d %d×%d, %d pixels) succeeded", im.N, im.Rows, im.Cols, len(im.Pix))
		}
	}
}

type badInput struct {
	name string
	data []byte
	want string // substring of the error
}

// Bad inputs for both parsers, checked plain and gzip-compressed: the
// content errors must not depend on the compression.
var (
	badImages = []badInput{
		{"empty", nil, "truncated header: expected 16 bytes"},
		{"short header", idx(nil, imagesMagic, 1)[:6], "truncated header: expected 16 bytes (magic 0x00000803, image count, rows, cols), got 6"},
		{"label file", idx([]byte{1}, labelsMagic, 1), "magic number 0x00000801, expected 0x00000803 (IDX unsigned-byte images, 3 dimensions); this is an IDX file of unsigned-byte labels"},
		{"text", []byte("this is not an IDX file at all"), "this is not an IDX file"},
		{"float images", idx(make([]byte, 16), 0x00000d03, 1, 2, 2), "element type 0x0d is not unsigned byte"},
		{"two dimensions", idx(make([]byte, 4), 0x00000802, 2, 2), "2 dimensions instead of 3"},
		{"zero rows", idx(nil, imagesMagic, 1, 0, 28), "images are 0×28 pixels, expected at least 1×1"},
		{"zero cols", idx(nil, imagesMagic, 1, 28, 0), "images are 28×0 pixels"},
		{"overflow", idx(nil, imagesMagic, 0xffffffff, 0xffffffff, 0xffffffff), "do not fit in memory"},
		{"huge claim", idx(make([]byte, 100), imagesMagic, 1_000_000_000, 28, 28), "truncated: expected 784000000000 bytes of pixels (1000000000 images of 28×28), got 100"},
		{"truncated pixels", idx(make([]byte, 5), imagesMagic, 2, 2, 2), "truncated: expected 8 bytes of pixels (2 images of 2×2), got 5"},
		{"trailing data", idx(make([]byte, 9), imagesMagic, 2, 2, 2), "unexpected data after the expected 8 bytes"},
	}
	badLabels = []badInput{
		{"empty", nil, "truncated header: expected 8 bytes"},
		{"short header", []byte{0, 0, 8, 1, 0}, "truncated header: expected 8 bytes (magic 0x00000801, label count), got 5"},
		{"image file", idx(make([]byte, 4), imagesMagic, 1, 2, 2), "magic number 0x00000803, expected 0x00000801 (IDX unsigned-byte labels, 1 dimension); this is an IDX file of unsigned-byte images"},
		{"truncated labels", idx([]byte{1, 2}, labelsMagic, 3), "truncated: expected 3 labels, got 2"},
		{"trailing data", idx([]byte{1, 2, 3, 4}, labelsMagic, 3), "unexpected data after the expected 3 bytes"},
		{"label too large", idx([]byte{1, 9, 10, 3}, labelsMagic, 4), "label 10 at index 2, expected labels 0..9 (10 classes)"},
	}
)

func TestReadImagesBadInput(t *testing.T) {
	for _, tc := range badImages {
		for _, compress := range []bool{false, true} {
			data := tc.data
			if compress {
				data = gzipped(t, data)
			}
			_, err := ReadImages(bytes.NewReader(data), "dir/imgs")
			checkFormatError(t, tc.name, compress, err, "dir/imgs", tc.want)
		}
	}
}

func TestReadLabelsBadInput(t *testing.T) {
	for _, tc := range badLabels {
		for _, compress := range []bool{false, true} {
			data := tc.data
			if compress {
				data = gzipped(t, data)
			}
			_, err := ReadLabels(bytes.NewReader(data), "dir/lbls", 10)
			checkFormatError(t, tc.name, compress, err, "dir/lbls", tc.want)
		}
	}
}

// Corrupt compression is reported as such, whichever parser meets it.
func TestCorruptGzip(t *testing.T) {
	good := gzipped(t, idx([]byte{1, 2, 3}, labelsMagic, 3))
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-8] ^= 0xff // CRC-32 is the trailer's first word
	badDeflate := bytes.Clone(good)
	badDeflate[10] = 0xff // first byte of the deflate stream: reserved block type
	for _, tc := range []badInput{
		{"magic only", []byte{0x1f, 0x8b}, "corrupt gzip header"},
		{"bad header", append([]byte{0x1f, 0x8b, 99}, make([]byte, 20)...), "corrupt gzip header"},
		{"bad checksum", badCRC, "corrupt gzip data"},
		{"bad deflate", badDeflate, "corrupt gzip data"},
		{"truncated stream", good[:len(good)-12], "truncated"},
	} {
		_, err := ReadLabels(bytes.NewReader(tc.data), "l.gz", 0)
		checkFormatError(t, tc.name, true, err, "l.gz", tc.want)
	}
}

func checkFormatError(t *testing.T, name string, compress bool, err error, file, want string) {
	t.Helper()
	var fe *FormatError
	switch {
	case err == nil:
		t.Errorf("%s (gzip=%v): no error, want %q", name, compress, want)
	case !errors.As(err, &fe):
		t.Errorf("%s (gzip=%v): error %v (%T) is not a *FormatError", name, compress, err, err)
	case fe.File != file || !strings.Contains(err.Error(), file):
		t.Errorf("%s (gzip=%v): error %q does not name the file %q", name, compress, err, file)
	case !strings.Contains(err.Error(), want):
		t.Errorf("%s (gzip=%v): error %q, want it to contain %q", name, compress, err, want)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

// An I/O error is not the file's fault: it is passed on, not dressed up as
// a format error.
func TestReadIOError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(bytes.NewReader(idx(nil, labelsMagic, 5)), failingReader{boom})
	_, err := ReadLabels(r, "lbls", 0)
	var fe *FormatError
	if !errors.Is(err, boom) || errors.As(err, &fe) || !strings.Contains(err.Error(), "lbls") {
		t.Errorf("got %v, want the I/O error, with the file name, not a *FormatError", err)
	}
}

// The parsers must not panic or allocate out of proportion on any input;
// whatever they accept must survive a round trip.
func FuzzReadImages(f *testing.F) {
	valid := idx([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, imagesMagic, 3, 2, 2)
	f.Add(valid)
	f.Add(gzipped(f, valid))
	for _, tc := range badImages {
		f.Add(tc.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := ReadImages(bytes.NewReader(data), "fuzz")
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		if len(im.Pix) != im.N*im.Rows*im.Cols {
			t.Fatalf("%d pixels for %d images of %d×%d", len(im.Pix), im.N, im.Rows, im.Cols)
		}
		var buf bytes.Buffer
		if err := WriteImages(&buf, im); err != nil {
			t.Fatal(err)
		}
		if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			if !bytes.Equal(buf.Bytes(), data) {
				t.Fatal("writing the images back does not reproduce the input")
			}
		}
	})
}

func FuzzReadLabels(f *testing.F) {
	valid := idx([]byte{0, 1, 9}, labelsMagic, 3)
	f.Add(valid, uint8(10))
	f.Add(gzipped(f, valid), uint8(0))
	for _, tc := range badLabels {
		f.Add(tc.data, uint8(10))
	}
	f.Fuzz(func(t *testing.T, data []byte, classes uint8) {
		labels, err := ReadLabels(bytes.NewReader(data), "fuzz", int(classes))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		for i, l := range labels {
			if classes > 0 && l >= classes {
				t.Fatalf("label %d at %d accepted with %d classes", l, i, classes)
			}
		}
		var buf bytes.Buffer
		if err := WriteLabels(&buf, labels); err != nil {
			t.Fatal(err)
		}
		if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			if !bytes.Equal(buf.Bytes(), data) {
				t.Fatal("writing the labels back does not reproduce the input")
			}
		}
	})
}
