// Package pid computes the I^sx partial information decomposition of a
// binary (or discrete) target by n = 2, 3 or 4 discrete sources, and the
// analytic gradient of a goal G = gamma · (atoms, H_res).
//
// The measure is the shared-exclusion redundancy of Makkeh, Gutknecht and
// Wibral (Phys. Rev. E 103, 032149, 2021). For an antichain alpha of source
// subsets, a source cell s and a target value t,
//
//	p_u(s)      = P(A_a1 or A_a2 or ...)            (inclusion-exclusion)
//	p_ut(s, t)  = P((A_a1 or A_a2 or ...) and T = t)
//	I_sx(alpha) = sum over s, t of p(s,t) log2(p_ut(s,t) / (p_u(s) p(t) + 1e-10))
//
// where A_a is the event that the sources in a take their values in s. Atoms
// come from Möbius inversion over the redundancy lattice; H_res = H(T) -
// I(T; S). The numerical conventions are those of the reference
// implementation behind Schneider et al. (ICLR 2025), so that its numbers are
// reproduced to 1e-9: the 1e-10 in the denominator only, fractions below 1e-7
// replaced by 1 (the cell adds 0 and passes no gradient), and
// H(T) = -sum_t p(t) log2(p(t) + 1e-10). Logarithms are base 2 (bits).
//
// Two input forms are accepted. The sample form (Estimator.Samples, Layer)
// takes, per sample, a bin index per source and the probability theta that
// the binary target is +1: the soft histogram a layer of infomorphic neurons
// produces. Its work and memory grow with the number of samples, never with
// the number of bins, because every sum runs over the cells and projections
// the samples occupy. The dense form (Estimator.Dense) takes a full joint
// table with a target of any number of values.
//
// Gradients follow the reference's autograd: p_u is treated as a constant
// (the reference computes it without gradient). The dropped term does not
// depend on t, so it cancels in the direction in which a sample's theta moves
// the table, and the sample-form gradient dG/dtheta is the exact gradient of G.
package pid
