#pragma once
// simdjson's On-Demand runs the SIMD kernel its translation unit was compiled for; there is no
// run-time dispatch. So the code that parses upstream JSON (lenient_json, normalize_v1/_v3,
// normalizer_ondemand) is compiled once per instruction set - "generic" (any x86-64 or arm64;
// NEON is always there) and, on x86-64, "haswell" (AVX2, BMI, PCLMUL) - each copy in an inline
// namespace of its own, so both link into one binary without clashing and callers name neither.
// upstream::Normalizer picks the copy the CPU runs at start (normalizer.cpp).
#ifndef ANIPIPE_UPSTREAM_ISA
#define ANIPIPE_UPSTREAM_ISA generic
#endif
