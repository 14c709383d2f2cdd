// OnStackOf: runs a function on a thread with a stack of a given size, for the tests that show a
// parse at its depth ceiling fits a server thread's stack (tests/ml, tests/server).
#pragma once

#include <gtest/gtest.h>
#include <pthread.h>

#include <cstddef>
#include <functional>

namespace mlprod::testutil {

// The stack a parse at a depth ceiling may use: a quarter of the server threads' 8 MiB, or all of
// it under ASan, whose frames are about four times larger.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr size_t kParseStack = 8 << 20;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr size_t kParseStack = 8 << 20;
#else
inline constexpr size_t kParseStack = 2 << 20;
#endif
#else
inline constexpr size_t kParseStack = 2 << 20;
#endif

// Runs `fn` on a new thread whose stack is `bytes` long and waits for it: overflowing that stack
// crashes the test.
inline void OnStackOf(size_t bytes, const std::function<void()>& fn) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, bytes), 0);
  pthread_t thread;
  auto run = [](void* f) -> void* {
    (*static_cast<const std::function<void()>*>(f))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, run, const_cast<std::function<void()>*>(&fn)), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

}  // namespace mlprod::testutil
