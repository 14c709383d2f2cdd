// FormulaLimits: how large a formula ParseFormula accepts. A formula is client text (SubmitRun),
// so the parser checks these before it recurses: a hostile formula costs bounded stack, time
// and memory instead of overflowing the stack (issue 10; SPEC §8). Plain values, header-only
// so that TrainOptions can carry them without pulling in the parser.
#pragma once

#include <cstddef>

namespace mlprod::ml {

// The deepest nesting any FormulaLimits allows: a larger max_depth acts as this one, so that no
// flag value brings the stack overflow back. The parser spends 4 to 7 frames per level, 2 to
// 4 KiB of stack in a Release build and 8 to 16 KiB under ASan, so 256 levels take about 1 MiB
// (4 MiB under ASan) of the 8 MiB stack of the server's threads (tests/ml/formula_limits_test).
inline constexpr int kMaxFormulaDepth = 256;

struct FormulaLimits {
  // Longest formula, in bytes. A formula names each column once (`.` stands for all of them),
  // so a hand-written one is tens of bytes and one listing 500 columns about 5 KiB.
  size_t max_length = 8192;
  // Deepest nesting. Each parenthesis, function call (I, log, poly, ...), unary sign and `^`
  // opens a level, and inside an expression so does each binary operator: I(a + b + c) is
  // I((a + b) + c), three levels, because evaluating and printing it recurse once per operator
  // (R counts the same way towards its expression-nesting limit of 5000). Formulas people write
  // nest a few levels; 100, protobuf's own recursion limit for the message that carries the
  // formula, still allows a sum of about 100 columns inside I(). At most kMaxFormulaDepth.
  int max_depth = 100;
  // Most terms the right-hand side may expand to. x1 * x2 * ... * xk expands to 2^k - 1 terms
  // and `.` to one per column, so a 60-byte formula over 30 columns would otherwise ask for a
  // billion; each term is at least one design-matrix column, and no fit uses 4096 of them.
  size_t max_terms = 4096;
};

// For a formula read back from a stored model. It passed the server's limits when the model
// was trained (or was built by stepwise selection from one that did, which can make it longer),
// so only what keeps parsing safe applies: a later, lower limit never strands a stored model.
inline constexpr FormulaLimits kStoredFormulaLimits{
    .max_length = static_cast<size_t>(-1),
    .max_depth = kMaxFormulaDepth,
    .max_terms = FormulaLimits{}.max_terms,  // no flag raises it
};

}  // namespace mlprod::ml
