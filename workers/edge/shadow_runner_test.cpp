#include "shadow_runner.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

using namespace anipipe::edge;
using namespace std::chrono_literals;

TEST_CASE("the shadow queue: bounded, a full one refuses at once instead of waiting, and what it took runs") {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> ran{0};
  std::atomic<bool> started{false};
  {
    ShadowRunner runner(1, 2);
    CHECK(runner.submit([&] {
      started = true;
      released.wait();
      ++ran;
    }));
    while (!started) std::this_thread::sleep_for(1ms);  // the one thread is busy: the queue fills
    CHECK(runner.submit([&] { ++ran; }));
    CHECK(runner.submit([&] { ++ran; }));
    const auto before = std::chrono::steady_clock::now();
    CHECK_FALSE(runner.submit([&] { ++ran; }));
    CHECK(std::chrono::steady_clock::now() - before < 100ms);
    release.set_value();
    for (int i = 0; i < 500 && ran < 3; ++i) std::this_thread::sleep_for(2ms);
    CHECK(ran == 3);
  }
  CHECK(ran == 3);
}

TEST_CASE("the shadow queue drops what is still queued at shutdown, and waits for what runs") {
  std::atomic<int> ran{0};
  std::atomic<bool> started{false};
  {
    ShadowRunner runner(1, 10);
    runner.submit([&] {
      started = true;
      std::this_thread::sleep_for(50ms);
      ++ran;
    });
    while (!started) std::this_thread::sleep_for(1ms);
    for (int i = 0; i < 5; ++i) runner.submit([&] { ++ran; });
  }
  CHECK(ran == 1);
}
