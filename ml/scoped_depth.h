// ScopedDepth: one level of nesting held while a recursive-descent parser is inside it (the
// formula and run-filter parsers), so that the parser can refuse input nested past its limit
// before recursing again. Thread-compatible.
#pragma once

namespace mlprod::ml {

class ScopedDepth {
 public:
  // Adds one to *depth until destroyed. `depth` must outlive this.
  explicit ScopedDepth(int* depth) : depth_(depth) { ++*depth_; }
  ~ScopedDepth() { --*depth_; }
  ScopedDepth(const ScopedDepth&) = delete;
  ScopedDepth& operator=(const ScopedDepth&) = delete;

 private:
  int* depth_;
};

}  // namespace mlprod::ml
