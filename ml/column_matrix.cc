#include "ml/column_matrix.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>
#include <stdexcept>

namespace mlprod::ml {
namespace {

// Below this size a buffer comes from malloc as it is (16-byte aligned): an aligned allocation
// costs several times a plain one, and a few rows (a prediction) gain nothing from alignment.
constexpr size_t kAlignFrom = 4096;
constexpr size_t kHugePage = size_t{2} << 20;
// From this size on a buffer is huge-page backed (numpy's threshold).
constexpr size_t kHugeFrom = size_t{4} << 20;

}  // namespace

void FreeDoubles::operator()(double* p) const { std::free(p); }

DoubleBuffer AllocateDoubles(size_t n) {
  const size_t bytes = n * sizeof(double);
  if (bytes < kAlignFrom) {
    void* p = std::malloc(bytes == 0 ? sizeof(double) : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return DoubleBuffer(static_cast<double*>(p));
  }
  const size_t align = bytes >= kHugeFrom ? kHugePage : 64;
  const size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded);
  if (p == nullptr) throw std::bad_alloc();
  // Advice only: without transparent huge pages the buffer still works, with small pages.
  if (align == kHugePage) madvise(p, rounded, MADV_HUGEPAGE);
  return DoubleBuffer(static_cast<double*>(p));
}

ColumnMatrix::ColumnMatrix(const double* data, size_t rows, size_t cols) : rows_(rows) {
  cols_.reserve(cols);
  for (size_t j = 0; j < cols; ++j) cols_.push_back(data + j * rows);
}

void ColumnMatrix::Reserve(size_t cols, size_t owned) {
  cols_.reserve(cols);
  if (owned == 0) return;
  block_ = AllocateDoubles(AlignedStride(rows_) * owned);
  block_next_ = block_.get();
  block_free_ = owned;
}

double* ColumnMatrix::AddOwned() {
  if (block_free_ == 0)
    throw std::logic_error("ColumnMatrix::AddOwned beyond what Reserve set aside");
  double* column = block_next_;
  block_next_ += AlignedStride(rows_);
  --block_free_;
  cols_.push_back(column);
  return column;
}

}  // namespace mlprod::ml
