//go:build !amd64 || purego

package trainer

// Without the AVX2 kernels the activations run the portable loops (whose
// results are bit-identical to the kernels'); these are never called, since
// useAVX2 is false.

func schneiderAVX2(theta, dr, dc, dl, r, c, l *float64, n int, k *actConsts) {
	panic("trainer: no AVX2 kernels")
}

func schneiderThetaAVX2(theta, r, c, l *float64, n int, k *actConsts) {
	panic("trainer: no AVX2 kernels")
}

func graetzAVX2(theta, dr, dc, r, c *float64, n int, k *actConsts) { panic("trainer: no AVX2 kernels") }

func graetzThetaAVX2(theta, r, c *float64, n int, k *actConsts) { panic("trainer: no AVX2 kernels") }

func schneider512(theta, dr, dc, dl, r, c, l *float64, n int, k *actConsts) {
	panic("trainer: no AVX-512 kernels")
}

func schneiderTheta512(theta, r, c, l *float64, n int, k *actConsts) {
	panic("trainer: no AVX-512 kernels")
}
