// Streaming TSQR for ml/ols.cc: the triangular factor of a tall design in one pass over its rows.
// Internal to ml/.
#pragma once

#include <Eigen/Dense>

#include "ml/column_matrix.h"
#include "ml/keep_going.h"
#include "ml/status.h"

namespace mlprod::ml {

// The (p+1) x (p+1) upper triangular R of [X S^-1, y] = Q R (X: x's p columns, S^-1 the diagonal
// of `inv_scale`, y: x.rows() values), by Householder reflections. The rows are taken in blocks
// that fit in the L2 cache: each block B is scaled into a buffer and [R; B] is factored in place
// with reflectors [e_k; v] (v in B's rows only, as LAPACK's dtpqrt), a panel of columns at a time
// with the trailing columns updated by the panel's compact WY form (two matrix products). X is
// read once; the work is about 2·n·(p+1)² flops. The kernels use AVX-512F or AVX2 with FMA
// when the CPU has them (chosen once at run time) and SSE2 otherwise; on one CPU the result has
// the same bits on every run. Diagonal signs are as Householder QR leaves them. `keep_going` is
// asked every few megabytes of rows; CANCELLED when it says stop.
Result<Eigen::MatrixXd> StreamingR(const ColumnMatrix& x, const double* y,
                                   const Eigen::VectorXd& inv_scale,
                                   const KeepGoing& keep_going = nullptr);

// The kernel StreamingR uses on this CPU: "AVX-512F", "AVX2+FMA" or "SSE2".
const char* StreamingRKernel();

}  // namespace mlprod::ml
