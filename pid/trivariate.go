package pid

// The union of all sources of the trivariate lattice holds 9 of its 18
// antichains and, at 100 bins, nine tenths of an estimator's (group,
// antichain) pairs: one per occupied cell and antichain. Its union pass is
// spelled out here for that one shape: the generic loops over each
// antichain's terms and each subset's antichains cost more than the
// arithmetic they drive. The results are those of the generic pass bit for
// bit (TestTrivariateFullPass): the same terms, added in the same order.

// tri7Terms is the shape the code below spells out: the coefficient of
// subset slot j (the masks 1 to 7 in order: {1} {2} {12} {3} {13} {23}
// {123}) in antichain ci's inclusion-exclusion, in the lattice's chain order
// {1}{2}{3}, {1}{23}, {2}{13}, {3}{12}, {12}{13}{23}, {12}{13}, {12}{23},
// {13}{23}, {123}.
var tri7Terms = [9][7]float64{
	{1, 1, -1, 1, -1, -1, 1},
	{1, 0, 0, 0, 0, 1, -1},
	{0, 1, 0, 0, 1, 0, -1},
	{0, 0, 1, 1, 0, 0, -1},
	{0, 0, 1, 0, 1, 1, -2},
	{0, 0, 1, 0, 1, 0, -1},
	{0, 0, 1, 0, 0, 1, -1},
	{0, 0, 0, 0, 1, 1, -1},
	{0, 0, 0, 0, 0, 0, 1},
}

// tri7Matches reports whether a union group has exactly tri7Terms' shape.
func tri7Matches(ug *unionGroup) bool {
	if len(ug.subsets) != 7 || len(ug.chains) != 9 {
		return false
	}
	for j, u := range ug.subsets {
		if u != uint8(j+1) {
			return false
		}
	}
	for ci, ch := range ug.chains {
		var row [7]float64
		for _, tm := range ch.terms {
			row[tm.slot] = tm.coef
		}
		if row != tri7Terms[ci] {
			return false
		}
	}
	return true
}

// tri7Fracs is pass 1 of the full trivariate union pass for groups g0 to
// g1-1 (which are cells): it returns the number of entries written.
func tri7Fracs(pb passBlockBuf, g0, g1 int, proj *[15][]int32, pm, pmt *[15][]float64, pt0, pt1 float64) int {
	q := 0
	p1, p2, p3, p4, p5, p6, p7 := pm[0], pm[1], pm[2], pm[3], pm[4], pm[5], pm[6]
	m1, m2, m3, m4, m5, m6, m7 := pmt[0], pmt[1], pmt[2], pmt[3], pmt[4], pmt[5], pmt[6]
	var u float64
	for g := g0; g < g1; g++ {
		h1, h2, h3, h4, h5, h6 := proj[0][g], proj[1][g], proj[2][g], proj[3][g], proj[4][g], proj[5][g]
		h7 := proj[6][g]
		P1, A1, B1 := p1[h1], m1[2*h1], m1[2*h1+1]
		P2, A2, B2 := p2[h2], m2[2*h2], m2[2*h2+1]
		P3, A3, B3 := p3[h3], m3[2*h3], m3[2*h3+1]
		P4, A4, B4 := p4[h4], m4[2*h4], m4[2*h4+1]
		P5, A5, B5 := p5[h5], m5[2*h5], m5[2*h5+1]
		P6, A6, B6 := p6[h6], m6[2*h6], m6[2*h6+1]
		P7, A7, B7 := p7[h7], m7[2*h7], m7[2*h7+1]
		u = P1 + P2 - P3 + P4 - P5 - P6 + P7
		pb.put(q, u, A1+A2-A3+A4-A5-A6+A7, pt0)
		pb.put(q+1, u, B1+B2-B3+B4-B5-B6+B7, pt1)
		u = P1 + P6 - P7
		pb.put(q+2, u, A1+A6-A7, pt0)
		pb.put(q+3, u, B1+B6-B7, pt1)
		u = P2 + P5 - P7
		pb.put(q+4, u, A2+A5-A7, pt0)
		pb.put(q+5, u, B2+B5-B7, pt1)
		u = P3 + P4 - P7
		pb.put(q+6, u, A3+A4-A7, pt0)
		pb.put(q+7, u, B3+B4-B7, pt1)
		u = P3 + P5 + P6 - 2*P7
		pb.put(q+8, u, A3+A5+A6-2*A7, pt0)
		pb.put(q+9, u, B3+B5+B6-2*B7, pt1)
		u = P3 + P5 - P7
		pb.put(q+10, u, A3+A5-A7, pt0)
		pb.put(q+11, u, B3+B5-B7, pt1)
		u = P3 + P6 - P7
		pb.put(q+12, u, A3+A6-A7, pt0)
		pb.put(q+13, u, B3+B6-B7, pt1)
		u = P5 + P6 - P7
		pb.put(q+14, u, A5+A6-A7, pt0)
		pb.put(q+15, u, B5+B6-B7, pt1)
		u = P7
		pb.put(q+16, u, A7, pt0)
		pb.put(q+17, u, B7, pt1)
		q += 18
	}
	return q
}

// tri7Gather adds group g's R terms of the full trivariate union pass to
// the subsets' groups: for subset slot j, the sum over the antichains of
// tri7Terms[ci][j] · R(ci), for t = 0 (r0) and 1 (r1).
func tri7Gather(g int, r0, r1 []float64, proj *[15][]int32, dst *[15][]float64) {
	r0, r1 = r0[:9], r1[:9]
	add := func(j int, a0, a1 float64) {
		h := proj[j][g]
		d := dst[j]
		d[2*h] += a0
		d[2*h+1] += a1
	}
	add(0, r0[0]+r0[1], r1[0]+r1[1])
	add(1, r0[0]+r0[2], r1[0]+r1[2])
	add(2, -r0[0]+r0[3]+r0[4]+r0[5]+r0[6], -r1[0]+r1[3]+r1[4]+r1[5]+r1[6])
	add(3, r0[0]+r0[3], r1[0]+r1[3])
	add(4, -r0[0]+r0[2]+r0[4]+r0[5]+r0[7], -r1[0]+r1[2]+r1[4]+r1[5]+r1[7])
	add(5, -r0[0]+r0[1]+r0[4]+r0[6]+r0[7], -r1[0]+r1[1]+r1[4]+r1[6]+r1[7])
	add(6, r0[0]-r0[1]-r0[2]-r0[3]-2*r0[4]-r0[5]-r0[6]-r0[7]+r0[8], r1[0]-r1[1]-r1[2]-r1[3]-2*r1[4]-r1[5]-r1[6]-r1[7]+r1[8])
}
