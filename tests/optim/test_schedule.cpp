// LrSchedule against nanoGPT's get_lr(it), written out here independently at chosen steps.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

#include "optim/schedule.h"

using namespace gpt;

TEST_CASE("warm-up then cosine decay at chosen steps") {
    const double lr = 1e-3, min_lr = 1e-4;
    const int64_t warmup = 100, decay = 2000;
    const LrSchedule s = LrSchedule::warmup_cosine(lr, min_lr, warmup, decay);
    CHECK(s.lr_at(0) == doctest::Approx(lr * 1.0 / 101.0));         // first warm-up step
    CHECK(s.lr_at(49) == doctest::Approx(lr * 50.0 / 101.0));
    CHECK(s.lr_at(99) == doctest::Approx(lr * 100.0 / 101.0));      // last warm-up step
    CHECK(s.lr_at(100) == doctest::Approx(lr));                     // cosine starts at the peak
    const int64_t mid = (warmup + decay) / 2;                       // ratio 0.5: halfway between
    CHECK(s.lr_at(mid) == doctest::Approx(min_lr + 0.5 * (lr - min_lr)));
    const double ratio = (1500.0 - 100.0) / 1900.0;
    CHECK(s.lr_at(1500) == doctest::Approx(min_lr + 0.5 * (1.0 + std::cos(std::numbers::pi * ratio)) * (lr - min_lr)));
    CHECK(s.lr_at(decay) == doctest::Approx(min_lr));               // end of the decay
    CHECK(s.lr_at(decay + 1) == min_lr);                             // past the end
    CHECK(s.lr_at(1000000) == min_lr);
    for (int64_t it = warmup; it < decay; ++it) CHECK(s.lr_at(it + 1) <= s.lr_at(it));  // monotone decay
}

TEST_CASE("edge cases: no warm-up, empty cosine phase, constant") {
    const LrSchedule no_warmup = LrSchedule::warmup_cosine(0.01, 0.0, 0, 10);
    CHECK(no_warmup.lr_at(0) == doctest::Approx(0.01));
    CHECK(no_warmup.lr_at(10) == doctest::Approx(0.0));
    const LrSchedule empty = LrSchedule::warmup_cosine(0.01, 0.001, 5, 5);
    CHECK(empty.lr_at(4) == doctest::Approx(0.01 * 5.0 / 6.0));
    CHECK(empty.lr_at(5) == doctest::Approx(0.001));
    CHECK(empty.lr_at(6) == 0.001);
    const LrSchedule constant = LrSchedule::constant(3e-4);
    CHECK(constant.is_constant());
    CHECK(constant.lr_at(0) == 3e-4);
    CHECK(constant.lr_at(123456) == 3e-4);
}

TEST_CASE("schedule validation") {
    CHECK_THROWS_WITH(LrSchedule::warmup_cosine(0.0, 0.0, 0, 10), doctest::Contains("LrSchedule: lr must be finite and > 0"));
    CHECK_THROWS_WITH(LrSchedule::warmup_cosine(1e-3, 2e-3, 0, 10), doctest::Contains("min_lr must be in [0, lr = 0.001], got 0.002"));
    CHECK_THROWS_WITH(LrSchedule::warmup_cosine(1e-3, 1e-4, -1, 10), doctest::Contains("warmup_iters must be >= 0, got -1"));
    CHECK_THROWS_WITH(LrSchedule::warmup_cosine(1e-3, 1e-4, 100, 50),
                      doctest::Contains("lr_decay_iters (50) must be >= warmup_iters (100)"));
    CHECK_THROWS_WITH(LrSchedule::constant(-1.0), doctest::Contains("lr must be finite and >= 0"));
    CHECK_THROWS_WITH(LrSchedule::constant(1e-3).lr_at(-1), doctest::Contains("step must be >= 0"));
}

TEST_CASE("trapezoidal: warm-up, stable at lr, linear decay over the last decay_fraction to min_lr") {
    const double lr = 1e-3, min_lr = 1e-4;
    const LrSchedule s = LrSchedule::trapezoidal(lr, min_lr, 10, 100, 0.2);  // decay over steps 80..99
    CHECK(s.is_trapezoidal());
    CHECK(s.decay_start() == 80);
    CHECK(s.lr_at(0) == doctest::Approx(lr * 1.0 / 11.0));  // nanoGPT's warm-up, as the cosine
    CHECK(s.lr_at(9) == doctest::Approx(lr * 10.0 / 11.0));
    for (int64_t it = 10; it < 80; ++it) CHECK(s.lr_at(it) == lr);  // stable: exactly lr
    CHECK(s.lr_at(79) == lr);
    CHECK(s.lr_at(80) == doctest::Approx(lr - (lr - min_lr) * 1.0 / 20.0));  // the decay's first step is below lr
    CHECK(s.lr_at(90) == doctest::Approx(lr - (lr - min_lr) * 11.0 / 20.0));
    CHECK(s.lr_at(99) == doctest::Approx(min_lr));                            // the run's last step takes min_lr
    CHECK(s.lr_at(100) == min_lr);
    CHECK(s.lr_at(5000) == min_lr);
    for (int64_t it = 79; it < 99; ++it) CHECK(s.lr_at(it + 1) < s.lr_at(it));  // strictly decreasing
    // A decay longer than the stable phase starts right after the warm-up, never inside it.
    const LrSchedule all = LrSchedule::trapezoidal(lr, 0.0, 10, 20, 1.0);
    CHECK(all.decay_start() == 10);
    CHECK(all.lr_at(9) == doctest::Approx(lr * 10.0 / 11.0));
    CHECK(all.lr_at(10) == doctest::Approx(lr * 0.9));
    CHECK(all.lr_at(15) == doctest::Approx(lr * 0.4));
    CHECK(all.lr_at(19) == 0.0);
    CHECK_THROWS_WITH(LrSchedule::trapezoidal(lr, min_lr, 0, 10, 0.0), doctest::Contains("decay_fraction must be in (0, 1], got 0"));
    CHECK_THROWS_WITH(LrSchedule::trapezoidal(lr, min_lr, 0, 10, 1.5), doctest::Contains("decay_fraction must be in (0, 1]"));
}

TEST_CASE("sequence-length warm-up: from start to full over iters steps, then full") {
    CHECK(sequence_length_at(0, 16, 64, 100) == 16);
    CHECK(sequence_length_at(50, 16, 64, 100) == 40);
    CHECK(sequence_length_at(99, 16, 64, 100) == 63);
    CHECK(sequence_length_at(100, 16, 64, 100) == 64);
    CHECK(sequence_length_at(12345, 16, 64, 100) == 64);
    CHECK(sequence_length_at(0, 0, 64, 100) == 64);  // off
    CHECK(sequence_length_at(0, 16, 64, 0) == 64);   // off
    for (int64_t it = 0; it < 100; ++it) CHECK(sequence_length_at(it + 1, 16, 64, 100) >= sequence_length_at(it, 16, 64, 100));
}
