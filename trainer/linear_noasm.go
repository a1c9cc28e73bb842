//go:build !amd64 || purego

package trainer

// Without the AVX2 kernels, axpyRows runs the portable loop (whose results
// are bit-identical to the kernels').
const (
	useAVX2   = false
	useAVX512 = false
)

func axpyRowsAVX2(acc, rows []float64, stride int, idx []int32, val []float64) int { return 0 }

func axpyRowsAVX512(acc, rows []float64, stride int, idx []int32, val []float64) {}

func axpyRows32AVX512(acc []float64, rows []float32, stride int, idx []int32, val []float64) {}

func dotRows32AVX512(dst *float64, a *float64, rows *float32, stride int, idx *int32, k int, n8 int) {
	panic("trainer: no AVX-512 kernels")
}

func dotRows32AVX2(dst *float64, a *float64, rows *float32, stride int, idx *int32, k int, n8 int) {
	panic("trainer: no AVX2 kernels")
}
