// ColumnMatrix: a read-only rows x cols matrix of doubles held column by column, each column
// contiguous but the columns anywhere: a Frame's numeric columns used in place, or buffers the
// matrix owns. It lets a fit read a large design without copying it into one block first.
// A plain value; safe to read from many threads once built.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

namespace mlprod::ml {

struct FreeDoubles {
  void operator()(double* p) const;
};
using DoubleBuffer = std::unique_ptr<double[], FreeDoubles>;

// Memory for n doubles, not initialised (a write-once buffer needs no zero fill). Buffers from
// 4 KiB on are 64-byte aligned; large ones are aligned to and advised for transparent huge pages,
// as numpy does for its arrays: a fresh multi-megabyte buffer otherwise costs one page fault per 4
// KiB, which on a virtual machine can take longer than the arithmetic done on it.
DoubleBuffer AllocateDoubles(size_t n);

class ColumnMatrix {
 public:
  ColumnMatrix() = default;
  explicit ColumnMatrix(size_t rows) : rows_(rows) {}
  // Column-major `data` (rows x cols, leading dimension rows), borrowed: it must outlive this.
  ColumnMatrix(const double* data, size_t rows, size_t cols);

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_.size(); }
  const double* col(size_t j) const { return cols_[j]; }

  // Appends a column read in place (`values` must outlive this matrix).
  void AddBorrowed(const double* values) { cols_.push_back(values); }
  // Room for `cols` columns in all, and one block for `owned` columns that AddOwned hands out:
  // a design of many columns, or of one row, costs one allocation. Call once, before AddOwned.
  void Reserve(size_t cols, size_t owned);
  // Appends a column this matrix owns, a slice of Reserve's block as aligned as AllocateDoubles'
  // buffers, and returns it for the caller to fill (uninitialised). Throws std::logic_error past
  // the `owned` columns Reserve set aside.
  double* AddOwned();

 private:
  size_t rows_ = 0;
  std::vector<const double*> cols_;
  DoubleBuffer block_;     // Reserve's block
  size_t block_free_ = 0;  // slices of it not yet handed out
  double* block_next_ = nullptr;
};

// The stride that keeps each of several n-double columns in one block as aligned as the block.
inline size_t AlignedStride(size_t n) { return (n + 7) / 8 * 8; }

// Calls fn(r, row) for each row r of `x` in order, `row` pointing at its x.cols() values stored
// contiguously: blocks of rows are copied to a row-major buffer that stays in cache, since a
// design is built column by column and the per-row routines (a model's prediction, leverage) read
// rows.
template <typename Fn>
void ForEachRow(const ColumnMatrix& x, const Fn& fn) {
  constexpr size_t kBlock = 256;
  const size_t p = x.cols();
  std::vector<double> block(std::min(kBlock, x.rows()) * p);
  for (size_t first = 0; first < x.rows(); first += kBlock) {
    const size_t m = std::min(kBlock, x.rows() - first);
    for (size_t j = 0; j < p; ++j) {
      const double* column = x.col(j) + first;
      for (size_t i = 0; i < m; ++i) block[i * p + j] = column[i];
    }
    for (size_t i = 0; i < m; ++i) fn(first + i, block.data() + i * p);
  }
}

}  // namespace mlprod::ml
