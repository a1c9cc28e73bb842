package search

// sobolDirections are the primitive polynomials and initial direction
// numbers of dimensions 2 to 32 of the Sobol sequence, from the file
// new-joe-kuo-6.21201 published with S. Joe and F. Y. Kuo, "Constructing
// Sobol sequences with better two-dimensional projections", SIAM J. Sci.
// Comput. 30 (2008) 2635–2654 (https://web.maths.unsw.edu.au/~fkuo/sobol/).
// Entry j is dimension j+2: s is the degree of the polynomial, a encodes
// its inner coefficients, and m are the initial direction numbers
// m_1, …, m_s. Dimension 1 (all m_k = 1, the van der Corput sequence) has no
// polynomial and is not listed.
var sobolDirections = [...]struct {
	s, a uint
	m    []uint64
}{
	{1, 0, []uint64{1}},
	{2, 1, []uint64{1, 3}},
	{3, 1, []uint64{1, 3, 1}},
	{3, 2, []uint64{1, 1, 1}},
	{4, 1, []uint64{1, 1, 3, 3}},
	{4, 4, []uint64{1, 3, 5, 13}},
	{5, 2, []uint64{1, 1, 5, 5, 17}},
	{5, 4, []uint64{1, 1, 5, 5, 5}},
	{5, 7, []uint64{1, 1, 7, 11, 19}},
	{5, 11, []uint64{1, 1, 5, 1, 1}},
	{5, 13, []uint64{1, 1, 1, 3, 11}},
	{5, 14, []uint64{1, 3, 5, 5, 31}},
	{6, 1, []uint64{1, 3, 3, 9, 7, 49}},
	{6, 13, []uint64{1, 1, 1, 15, 21, 21}},
	{6, 16, []uint64{1, 3, 1, 13, 27, 49}},
	{6, 19, []uint64{1, 1, 1, 15, 7, 5}},
	{6, 22, []uint64{1, 3, 1, 15, 13, 25}},
	{6, 25, []uint64{1, 1, 5, 5, 19, 61}},
	{7, 1, []uint64{1, 3, 7, 11, 23, 15, 103}},
	{7, 4, []uint64{1, 3, 7, 13, 13, 15, 69}},
	{7, 7, []uint64{1, 1, 3, 13, 7, 35, 63}},
	{7, 8, []uint64{1, 3, 5, 9, 1, 25, 53}},
	{7, 14, []uint64{1, 3, 1, 13, 9, 35, 107}},
	{7, 19, []uint64{1, 3, 1, 5, 27, 61, 31}},
	{7, 21, []uint64{1, 1, 5, 11, 19, 41, 61}},
	{7, 28, []uint64{1, 3, 5, 3, 3, 13, 69}},
	{7, 31, []uint64{1, 1, 7, 13, 1, 19, 1}},
	{7, 32, []uint64{1, 3, 7, 5, 13, 19, 59}},
	{7, 37, []uint64{1, 1, 3, 9, 25, 29, 41}},
	{7, 41, []uint64{1, 3, 5, 13, 23, 1, 55}},
	{7, 42, []uint64{1, 3, 7, 3, 13, 59, 17}},
}

// sobolMaxDim is the largest dimension the sobol sampler supports.
const sobolMaxDim = len(sobolDirections) + 1
