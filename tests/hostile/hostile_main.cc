// The hostile tests' main: `hostile_tests --server-bin PATH [gtest flags]`. The binary under test
// is a flag, not a guess: without it the run fails rather than testing nothing.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "tests/hostile/hostile_support.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--server-bin") == 0) mlprod::hostile::SetServerBinary(argv[i + 1]);
  }
  if (mlprod::hostile::ServerBinary().empty()) {
    std::fprintf(stderr, "usage: %s --server-bin PATH/mlprod-server [gtest flags]\n", argv[0]);
    return 2;
  }
  return RUN_ALL_TESTS();
}
