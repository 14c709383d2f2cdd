// ColumnMatrix: a read-only rows x cols matrix of doubles held column by column, each column
// contiguous but the columns anywhere: a Frame's numeric columns used in place, or buffers the
// matrix owns. It lets a fit read a large design without copying it into one block first.
// A plain value; safe to read from many threads once built.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace mlprod::ml {

struct FreeDoubles {
  void operator()(double* p) const;
};
using DoubleBuffer = std::unique_ptr<double[], FreeDoubles>;

// Memory for n doubles, not initialised (a write-once buffer needs no zero fill). Large buffers
// are aligned to and advised for transparent huge pages, as numpy does for its arrays: a fresh
// multi-megabyte buffer otherwise costs one page fault per 4 KiB, which on a virtual machine
// can take longer than the arithmetic done on it.
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
  // Appends a column this matrix owns and returns it for the caller to fill (uninitialised).
  double* AddOwned();

 private:
  size_t rows_ = 0;
  std::vector<const double*> cols_;
  std::vector<DoubleBuffer> owned_;
};

}  // namespace mlprod::ml
