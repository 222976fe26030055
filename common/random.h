// The project's one source of randomness: an explicit, seedable generator whose whole state is four
// 64-bit words, so a checkpoint can save it and a resumed run continues the same stream.
//
// xoshiro256** (Blackman & Vigna, 2018), seeded through splitmix64 as its authors recommend.
// Header-only and dependency-free: autograd/ (dropout, init) and data/ (batch sampler) both use it.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace gpt {

class Generator {
public:
    using State = std::array<uint64_t, 4>;

    explicit Generator(uint64_t seed = 1337) { manual_seed(seed); }

    void manual_seed(uint64_t seed) {
        uint64_t x = seed;
        for (auto& word : state_) word = splitmix64(x);
        has_spare_normal_ = false;
    }

    // Uniform 64-bit word.
    uint64_t next_u64() {
        const uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, 1) with 24 random bits: exactly representable as float.
    float uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }

    // Uniform in [0, 1) with 53 random bits.
    double uniform_double() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

    // Uniform integer in [0, n) without modulo bias (Lemire's multiply-shift with rejection).
    uint64_t below(uint64_t n) {
        if (n == 0) return 0;
        for (;;) {
            __extension__ typedef unsigned __int128 u128;
            const u128 m = static_cast<u128>(next_u64()) * n;
            const uint64_t low = static_cast<uint64_t>(m);
            if (low >= n || low >= (-n) % n) return static_cast<uint64_t>(m >> 64);
        }
    }

    // Standard normal by Box-Muller in double precision; the second value is kept for the next call.
    double normal() {
        if (has_spare_normal_) {
            has_spare_normal_ = false;
            return spare_normal_;
        }
        double u1 = uniform_double();
        while (u1 <= 0.0) u1 = uniform_double();
        const double u2 = uniform_double();
        const double radius = std::sqrt(-2.0 * std::log(u1));
        const double angle = 2.0 * 3.14159265358979323846 * u2;
        spare_normal_ = radius * std::sin(angle);
        has_spare_normal_ = true;
        return radius * std::cos(angle);
    }

    // The complete state, for checkpoints. The cached Box-Muller value is dropped on save/restore;
    // callers that need bit-exact resume across normal() draws save at a point where none is pending
    // (initialisation draws all its normals before training starts, so this holds in the trainer).
    State state() const { return state_; }
    void set_state(const State& s) {
        state_ = s;
        has_spare_normal_ = false;
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static uint64_t splitmix64(uint64_t& x) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    State state_{};
    bool has_spare_normal_ = false;
    double spare_normal_ = 0.0;
};

}  // namespace gpt
