// KeepGoing: how a long computation reports how far it is and learns that it should stop. The
// computation calls it between units of work (a block of rows, an iteration, a fold) with the
// fraction done in [0, 1]; false asks it to stop, and it answers CANCELLED. A null KeepGoing never
// stops anything. This is what makes `runs cancel` take effect inside a fit, not only between its
// stages.
#pragma once

#include <functional>

namespace mlprod::ml {

using KeepGoing = std::function<bool(double fraction_done)>;

inline bool ShouldContinue(const KeepGoing& keep_going, double fraction_done) {
  return !keep_going || keep_going(fraction_done);
}

}  // namespace mlprod::ml
