package dataset

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte)
// and the number of dimensions.
const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
)

// readChunk bounds the first allocation for a file's payload. The header's
// counts are untrusted: a 16-byte file may claim gigabytes, so the buffer
// grows only as data actually arrives.
const readChunk = 1 << 16

// Images is a list of equally sized grey-scale images in raw bytes.
type Images struct {
	// N is the number of images, Rows and Cols the size of each.
	N, Rows, Cols int
	// Pix holds N×Rows×Cols bytes: image i, row-major, is
	// Pix[i*Rows*Cols : (i+1)*Rows*Cols].
	Pix []uint8
}

// Pixels returns the number of pixels of one image, Rows×Cols.
func (im *Images) Pixels() int { return im.Rows * im.Cols }

// Image returns image i as a slice of Pix, not a copy.
func (im *Images) Image(i int) []uint8 {
	p := im.Pixels()
	return im.Pix[i*p : (i+1)*p : (i+1)*p]
}

// ReadImages parses an IDX file of unsigned-byte images (magic 0x00000803,
// dimensions N, rows, cols), gzip-compressed or not: compression is detected
// from the gzip magic bytes, not from a file name. name is used only in
// errors. The file must end exactly after the N×rows×cols pixels.
//
// Errors about the content are *FormatError; ReadImages never panics on bad
// input and allocates no more than about twice the data actually present.
func ReadImages(r io.Reader, name string) (*Images, error) {
	src, err := openIDX(r, name)
	if err != nil {
		return nil, err
	}
	var hdr [16]byte
	// The magic number is checked before the rest of the header is read, so
	// that a short label file passed as images is reported as such.
	n, err := io.ReadFull(src, hdr[:4])
	if err == nil {
		if err := checkMagic(name, binary.BigEndian.Uint32(hdr[0:]), imagesMagic); err != nil {
			return nil, err
		}
		var m int
		m, err = io.ReadFull(src, hdr[4:])
		n += m
	}
	if err != nil {
		return nil, readErr(name, err, fmt.Sprintf("truncated header: expected 16 bytes (magic 0x%08x, image count, rows, cols), got %d", imagesMagic, n))
	}
	count := binary.BigEndian.Uint32(hdr[4:])
	rows := binary.BigEndian.Uint32(hdr[8:])
	cols := binary.BigEndian.Uint32(hdr[12:])
	if rows == 0 || cols == 0 {
		return nil, &FormatError{File: name, Msg: fmt.Sprintf("images are %d×%d pixels, expected at least 1×1", rows, cols)}
	}
	size, ok := mul(uint64(count), uint64(rows), uint64(cols))
	if !ok {
		return nil, &FormatError{File: name, Msg: fmt.Sprintf("%d images of %d×%d pixels do not fit in memory", count, rows, cols)}
	}
	pix, err := readPayload(src, name, size, func(got int) string {
		return fmt.Sprintf("truncated: expected %d bytes of pixels (%d images of %d×%d), got %d", size, count, rows, cols, got)
	})
	if err != nil {
		return nil, err
	}
	return &Images{N: int(count), Rows: int(rows), Cols: int(cols), Pix: pix}, nil
}

// ReadLabels parses an IDX file of unsigned-byte labels (magic 0x00000801,
// one dimension), gzip-compressed or not, like ReadImages. If numClasses > 0,
// every label must be below it; otherwise any byte is a valid label.
func ReadLabels(r io.Reader, name string, numClasses int) ([]uint8, error) {
	src, err := openIDX(r, name)
	if err != nil {
		return nil, err
	}
	var hdr [8]byte
	n, err := io.ReadFull(src, hdr[:4])
	if err == nil {
		if err := checkMagic(name, binary.BigEndian.Uint32(hdr[0:]), labelsMagic); err != nil {
			return nil, err
		}
		var m int
		m, err = io.ReadFull(src, hdr[4:])
		n += m
	}
	if err != nil {
		return nil, readErr(name, err, fmt.Sprintf("truncated header: expected 8 bytes (magic 0x%08x, label count), got %d", labelsMagic, n))
	}
	count := binary.BigEndian.Uint32(hdr[4:])
	labels, err := readPayload(src, name, uint64(count), func(got int) string {
		return fmt.Sprintf("truncated: expected %d labels, got %d", count, got)
	})
	if err != nil {
		return nil, err
	}
	if err := checkLabels(name, labels, numClasses); err != nil {
		return nil, err
	}
	return labels, nil
}

// checkLabels reports the first label that is not below numClasses; the
// index helps find it in the file.
func checkLabels(name string, labels []uint8, numClasses int) error {
	if numClasses <= 0 {
		return nil
	}
	for i, l := range labels {
		if int(l) >= numClasses {
			return &FormatError{File: name, Msg: fmt.Sprintf("label %d at index %d, expected labels 0..%d (%d classes)", l, i, numClasses-1, numClasses)}
		}
	}
	return nil
}

// WriteImages writes im as a plain (uncompressed) IDX image file. Wrap w in
// a gzip.Writer for a compressed one.
func WriteImages(w io.Writer, im *Images) error {
	if im.N < 0 || im.Rows <= 0 || im.Cols <= 0 || uint64(im.N) > math.MaxUint32 || uint64(im.Rows) > math.MaxUint32 || uint64(im.Cols) > math.MaxUint32 {
		return fmt.Errorf("dataset: cannot write %d images of %d×%d pixels as IDX", im.N, im.Rows, im.Cols)
	}
	if len(im.Pix) != im.N*im.Rows*im.Cols {
		return fmt.Errorf("dataset: cannot write images: %d pixels, expected %d images of %d×%d = %d", len(im.Pix), im.N, im.Rows, im.Cols, im.N*im.Rows*im.Cols)
	}
	var hdr [16]byte
	binary.BigEndian.PutUint32(hdr[0:], imagesMagic)
	binary.BigEndian.PutUint32(hdr[4:], uint32(im.N))
	binary.BigEndian.PutUint32(hdr[8:], uint32(im.Rows))
	binary.BigEndian.PutUint32(hdr[12:], uint32(im.Cols))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(im.Pix)
	return err
}

// WriteLabels writes labels as a plain (uncompressed) IDX label file.
func WriteLabels(w io.Writer, labels []uint8) error {
	if uint64(len(labels)) > math.MaxUint32 {
		return fmt.Errorf("dataset: cannot write %d labels as IDX", len(labels))
	}
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[0:], labelsMagic)
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(labels)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(labels)
	return err
}

// openIDX returns a reader of the uncompressed bytes of r.
func openIDX(r io.Reader, name string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	// Peek's error is irrelevant: a short file is reported by the header read.
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, gzip.ErrHeader) {
			return nil, &FormatError{File: name, Msg: "corrupt gzip header", Err: err}
		}
		if err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", name, err)
		}
		return zr, nil
	}
	return br, nil
}

// checkMagic explains the common mix-ups (a label file given for images,
// a non-IDX file) instead of only printing two numbers.
func checkMagic(name string, got, want uint32) error {
	if got == want {
		return nil
	}
	kind := map[uint32]string{
		imagesMagic: "unsigned-byte images, 3 dimensions",
		labelsMagic: "unsigned-byte labels, 1 dimension",
	}
	msg := fmt.Sprintf("magic number 0x%08x, expected 0x%08x (IDX %s)", got, want, kind[want])
	switch {
	case kind[got] != "":
		msg += "; this is an IDX file of " + kind[got]
	case got>>16 != 0:
		msg += "; this is not an IDX file"
	case got>>8&0xff != 0x08:
		msg += fmt.Sprintf("; element type 0x%02x is not unsigned byte (0x08)", got>>8&0xff)
	default:
		msg += fmt.Sprintf("; %d dimensions instead of %d", got&0xff, want&0xff)
	}
	return &FormatError{File: name, Msg: msg}
}

// readPayload reads exactly size bytes and then requires the end of the
// input, so that a header whose counts disagree with the data is caught and
// a gzip stream's checksum is verified.
func readPayload(r io.Reader, name string, size uint64, truncated func(got int) string) ([]byte, error) {
	if size > math.MaxInt {
		return nil, &FormatError{File: name, Msg: fmt.Sprintf("%d bytes of data do not fit in memory", size)}
	}
	n := int(size)
	buf := make([]byte, 0, min(n, readChunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			// Grow to at most n, so the final slice has no spare capacity.
			grown := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		got, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+got]
		if err != nil {
			return nil, readErr(name, err, truncated(len(buf)))
		}
	}
	var one [1]byte
	got, err := io.ReadFull(r, one[:])
	if got > 0 {
		return nil, &FormatError{File: name, Msg: fmt.Sprintf("unexpected data after the expected %d bytes of payload; the header's counts do not match the file", size)}
	}
	if err != io.EOF {
		// An unexpected EOF here can only come from a gzip stream that ends
		// before its trailer.
		return nil, readErr(name, err, "truncated: the gzip stream ends early")
	}
	return buf, nil
}

// readErr turns the end of the input into a FormatError with msg, keeps
// decompression errors as FormatErrors too (the file is corrupt), and passes
// other I/O errors through with the file name.
func readErr(name string, err error, msg string) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &FormatError{File: name, Msg: msg}
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum):
		return &FormatError{File: name, Msg: "corrupt gzip data", Err: err}
	}
	var corrupt flate.CorruptInputError
	if errors.As(err, &corrupt) {
		return &FormatError{File: name, Msg: "corrupt gzip data", Err: err}
	}
	return fmt.Errorf("dataset: %s: %w", name, err)
}

// mul returns a×b×c and whether it fits in a uint64.
func mul(a, b, c uint64) (uint64, bool) {
	hi, ab := bits.Mul64(a, b)
	if hi != 0 {
		return 0, false
	}
	hi, abc := bits.Mul64(ab, c)
	return abc, hi == 0
}
