//go:build ignore

// activation_amd64_gen writes activation_amd64.s: the AVX2 kernels of the
// Schneider and Graetz activations, four samples per iteration, and
// AVX-512 ones of the Schneider activation (the trivariate hidden layer's,
// where the activation is a sixth of the time), eight samples per
// iteration, each lane doing exactly the operations of the portable code
// (sigmoid.go's expFast, activation.go's Theta methods) in the same order.
// Run `go generate` in this directory after changing it.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"regexp"
	"strings"
)

// Offsets into the constant block (actConsts in activation_amd64.go), one
// 32-byte vector each.
const (
	cLo = iota
	cHi
	cLog2E
	cMagic
	cLn2Hi
	cLn2Lo
	cCoef0     // 14 coefficients, 1/0! to 1/13!
	cMagicBits = cCoef0 + 14
	cBias      = cMagicBits + 1
	cSign      = cBias + 1
	cOne       = cSign + 1
	cP0        = cOne + 1 // activation parameters p0..p4
)

var b bytes.Buffer

// wide makes w write the AVX-512 form of each AVX2 instruction: Z for Y
// registers, constants of the (4-wide) block broadcast from their first
// element, 64 bytes of samples per iteration.
var wide bool

var yReg = regexp.MustCompile(`\bY(\d+)\b`)

func w(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if wide {
		line = yReg.ReplaceAllString(line, "Z$1")
		op, rest, _ := strings.Cut(line, " ")
		switch {
		case op == "VZEROUPPER":
		case op == "ADDQ" && strings.HasPrefix(rest, "$32,"):
			rest = "$64," + strings.TrimPrefix(rest, "$32,")
		case strings.Contains(rest, "(BX)") && op == "VMOVUPD":
			op = "VBROADCASTSD"
		case strings.Contains(rest, "(BX)"):
			if op == "VXORPD" {
				op = "VPXORQ" // VXORPD on Z registers needs AVX512DQ
			}
			op += ".BCST"
		case strings.HasPrefix(op, "VCMP") || strings.HasPrefix(op, "VBLENDV") || op == "VANDNPD" || op == "VORPD":
			log.Fatalf("no AVX-512 form of %q", line)
		}
		line = op + " " + rest
	}
	fmt.Fprintf(&b, "\t%s\n", line)
}

func k(i int) string { return fmt.Sprintf("%d(BX)", 32*i) }

// sigmoid sets dst = 1/(1 + exp(-src)) using the temporaries x, t, q (all
// distinct from each other; dst may equal src). Y15 holds 1.0.
func sigmoid(dst, src, x, t, q string) {
	w("VXORPD %s, %s, %s", k(cSign), src, x) // x = -src
	w("VMOVUPD %s, %s", k(cLo), q)
	w("VMAXPD %s, %s, %s", x, q, x) // x = lo > x ? lo : x (NaN stays)
	w("VMOVUPD %s, %s", k(cHi), q)
	w("VMINPD %s, %s, %s", x, q, x) // x = hi < x ? hi : x
	w("VMULPD %s, %s, %s", k(cLog2E), x, t)
	w("VADDPD %s, %s, %s", k(cMagic), t, t) // t = x·log2e + 1.5·2^52
	w("VSUBPD %s, %s, %s", k(cMagic), t, q) // q = k
	w("VFNMADD231PD %s, %s, %s", k(cLn2Hi), q, x)
	w("VFNMADD231PD %s, %s, %s", k(cLn2Lo), q, x) // x = r
	w("VMOVUPD %s, %s", k(cCoef0+13), dst)
	for i := 12; i >= 0; i-- {
		w("VFMADD213PD %s, %s, %s", k(cCoef0+i), x, dst) // dst = r·dst + 1/i!
	}
	w("VPSUBQ %s, %s, %s", k(cMagicBits), t, t)
	w("VPADDQ %s, %s, %s", k(cBias), t, t) // t = k + 2046
	w("VPSRLQ $1, %s, %s", t, q)           // q = e1
	w("VPSUBQ %s, %s, %s", q, t, t)        // t = e2
	w("VPSLLQ $52, %s, %s", q, q)
	w("VPSLLQ $52, %s, %s", t, t)
	w("VMULPD %s, %s, %s", q, dst, dst)
	w("VMULPD %s, %s, %s", t, dst, dst) // exp(-src)
	w("VADDPD Y15, %s, %s", dst, dst)
	w("VDIVPD %s, Y15, %s", dst, dst) // 1/(1 + exp(-src))
}

// kernel writes one activation kernel: prologue, a loop over n/4 groups of
// four samples (n a multiple of 4, possibly 0), epilogue. args are the
// pointer arguments with their registers; srcs are loaded into Y0, Y1, ...
// and body emits one group's work, with the byte offset in AX.
func kernel(name, sig string, args []string, srcs []string, body func()) {
	frame := 8 * (len(args) + 2)
	fmt.Fprintf(&b, "\n// func %s%s\n", name, sig)
	fmt.Fprintf(&b, "TEXT ·%s(SB), NOSPLIT, $0-%d\n", name, frame)
	for i, a := range args {
		f := strings.Fields(a) // name, register
		w("MOVQ %s+%d(FP), %s", f[0], 8*i, f[1])
	}
	w("MOVQ n+%d(FP), CX", 8*len(args))
	w("MOVQ k+%d(FP), BX", 8*len(args)+8)
	w("SHLQ $3, CX")
	w("XORQ AX, AX")
	w("VMOVUPD %s, Y15", k(cOne))
	w("TESTQ CX, CX")
	fmt.Fprintf(&b, "\tJEQ %s_done\n%s_loop:\n", name, name)
	for i, s := range srcs {
		w("VMOVUPD (%s)(AX*1), Y%d", s, i)
	}
	body()
	w("ADDQ $32, AX")
	w("CMPQ AX, CX")
	fmt.Fprintf(&b, "\tJLT %s_loop\n%s_done:\n", name, name)
	w("VZEROUPPER")
	w("RET")
}

func store(reg, ptr string) { w("VMOVUPD %s, (%s)(AX*1)", reg, ptr) }

// schneider: p0 = W1, p1 = W2, p2 = C1, p3 = C2, p4 = 1 - C1 - C2.
func schneider(grad bool) {
	w("VMULPD %s, Y0, Y3", k(cP0))
	w("VMULPD Y1, Y3, Y3") // (W1·r)·c
	w("VMULPD %s, Y0, Y7", k(cP0+1))
	w("VMULPD Y2, Y7, Y7")                 // (W2·r)·l
	sigmoid("Y3", "Y3", "Y4", "Y5", "Y6")  // g1
	sigmoid("Y7", "Y7", "Y8", "Y9", "Y10") // g2
	w("VMULPD %s, Y3, Y4", k(cP0+2))
	w("VADDPD %s, Y4, Y4", k(cP0+4))
	w("VMULPD %s, Y7, Y5", k(cP0+3))
	w("VADDPD Y5, Y4, Y4") // m = ((1-C1-C2) + C1·g1) + C2·g2
	w("VMULPD Y4, Y0, Y5")
	sigmoid("Y5", "Y5", "Y6", "Y8", "Y9") // t
	store("Y5", "DI")
	if !grad {
		return
	}
	w("VSUBPD Y5, Y15, Y6")
	w("VMULPD Y5, Y6, Y6") // dt = t·(1-t)
	w("VSUBPD Y3, Y15, Y8")
	w("VMULPD %s, Y3, Y9", k(cP0+2))
	w("VMULPD Y8, Y9, Y9")
	w("VMULPD %s, Y9, Y9", k(cP0)) // d1 = ((C1·g1)·(1-g1))·W1
	w("VSUBPD Y7, Y15, Y8")
	w("VMULPD %s, Y7, Y10", k(cP0+3))
	w("VMULPD Y8, Y10, Y10")
	w("VMULPD %s, Y10, Y10", k(cP0+1)) // d2
	w("VMULPD Y1, Y9, Y8")
	w("VMULPD Y2, Y10, Y11")
	w("VADDPD Y11, Y8, Y8")
	w("VMULPD Y0, Y8, Y8")
	w("VADDPD Y4, Y8, Y8")
	w("VMULPD Y6, Y8, Y8") // dr = dt·(m + r·(d1·c + d2·l))
	store("Y8", "R9")
	w("VMULPD Y9, Y0, Y11")
	w("VMULPD Y0, Y11, Y11")
	w("VMULPD Y6, Y11, Y11") // dc = dt·((r·d1)·r)
	store("Y11", "R10")
	w("VMULPD Y10, Y0, Y12")
	w("VMULPD Y0, Y12, Y12")
	w("VMULPD Y6, Y12, Y12") // dl = dt·((r·d2)·r)
	store("Y12", "R11")
}

// graetz: p0 = K2, p1 = K1, p2 = (1-K1)·2, p3 = clamp low, p4 = clamp high.
func graetz(grad bool) {
	w("VMULPD %s, Y0, Y3", k(cP0))
	w("VMULPD Y1, Y3, Y3")                // (K2·r)·c
	sigmoid("Y3", "Y3", "Y4", "Y5", "Y6") // g
	w("VMULPD %s, Y3, Y4", k(cP0+2))
	w("VADDPD %s, Y4, Y4", k(cP0+1)) // m = K1 + h·g
	w("VMULPD Y4, Y0, Y5")
	sigmoid("Y5", "Y5", "Y6", "Y7", "Y8")    // t
	w("VCMPPD $0x11, %s, Y5, Y9", k(cP0+3))  // t < lo
	w("VCMPPD $0x1E, %s, Y5, Y10", k(cP0+4)) // t > hi
	w("VBLENDVPD Y9, %s, Y5, Y11", k(cP0+3))
	w("VBLENDVPD Y10, %s, Y11, Y11", k(cP0+4))
	store("Y11", "DI")
	if !grad {
		return
	}
	w("VORPD Y10, Y9, Y12") // clamped
	w("VSUBPD Y5, Y15, Y6")
	w("VMULPD Y5, Y6, Y6") // dt = t·(1-t)
	w("VSUBPD Y3, Y15, Y7")
	w("VMULPD Y3, Y7, Y7")
	w("VMULPD %s, Y7, Y7", k(cP0)) // dg = (g·(1-g))·K2
	w("VMULPD %s, Y0, Y8", k(cP0+2))
	w("VMULPD Y7, Y8, Y8") // q = (r·h)·dg
	w("VMULPD Y1, Y8, Y9")
	w("VADDPD Y4, Y9, Y9")
	w("VMULPD Y6, Y9, Y9") // dr = dt·(m + q·c)
	w("VANDNPD Y9, Y12, Y9")
	store("Y9", "R9")
	w("VMULPD Y0, Y8, Y10")
	w("VMULPD Y6, Y10, Y10") // dc = dt·(q·r)
	w("VANDNPD Y10, Y12, Y10")
	store("Y10", "R10")
}

func main() {
	b.WriteString("// Code generated by activation_amd64_gen.go; DO NOT EDIT.\n\n//go:build !purego\n\n#include \"textflag.h\"\n")
	const kn = "n int, k *actConsts)"
	kernel("schneiderAVX2", "(theta, dr, dc, dl, r, c, l *float64, "+kn,
		[]string{"theta DI", "dr R9", "dc R10", "dl R11", "r SI", "c DX", "l R8"},
		[]string{"SI", "DX", "R8"}, func() { schneider(true) })
	kernel("schneiderThetaAVX2", "(theta, r, c, l *float64, "+kn,
		[]string{"theta DI", "r SI", "c DX", "l R8"},
		[]string{"SI", "DX", "R8"}, func() { schneider(false) })
	wide = true
	kernel("schneider512", "(theta, dr, dc, dl, r, c, l *float64, "+kn,
		[]string{"theta DI", "dr R9", "dc R10", "dl R11", "r SI", "c DX", "l R8"},
		[]string{"SI", "DX", "R8"}, func() { schneider(true) })
	kernel("schneiderTheta512", "(theta, r, c, l *float64, "+kn,
		[]string{"theta DI", "r SI", "c DX", "l R8"},
		[]string{"SI", "DX", "R8"}, func() { schneider(false) })
	wide = false
	kernel("graetzAVX2", "(theta, dr, dc, r, c *float64, "+kn,
		[]string{"theta DI", "dr R9", "dc R10", "r SI", "c DX"},
		[]string{"SI", "DX"}, func() { graetz(true) })
	kernel("graetzThetaAVX2", "(theta, r, c *float64, "+kn,
		[]string{"theta DI", "r SI", "c DX"},
		[]string{"SI", "DX"}, func() { graetz(false) })
	if err := os.WriteFile("activation_amd64.s", b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
