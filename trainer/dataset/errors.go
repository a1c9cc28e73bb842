package dataset

import "errors"

// ErrNotFound is returned (wrapped) by LoadMNIST and Load when the GoMNIST
// module is in neither form in the Go module cache. The wrapping error's text
// tells the user how to fetch it.
var ErrNotFound = errors.New("dataset: MNIST not found in the Go module cache")

// FormatError reports input that is not what was expected: a malformed IDX
// file, or files that do not fit together (image and label counts, image
// sizes, label values). I/O errors such as a missing file are not
// FormatErrors.
type FormatError struct {
	// File names the offending file (or set) as the caller named it.
	File string
	// Msg says what was expected and what was found.
	Msg string
	// Err is the underlying cause, if any (for example a gzip checksum error).
	Err error
}

func (e *FormatError) Error() string {
	s := "dataset: " + e.File + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }
