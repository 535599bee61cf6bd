#!/usr/bin/env python3
"""Fits the Chebyshev series that compiler/codegen/vector_math.cpp uses for erfc.

erfc(z) = t * exp(-z*z + g(t)) with t = 1 / (1 + z/2), z >= 0 (the form of Numerical Recipes'
erfcc, with a longer series). g is smooth on t in [T_MIN, 1] (z in [0, Z_MAX]); this script
interpolates it at Chebyshev nodes with Python's math.erfc as the reference and prints the
coefficients and the largest relative error of erfc it finds on a dense grid.

Run: python3 scripts/fit_erfc.py
"""
import math

Z_MAX = 27.0  # erfc(27) ~ 5e-319: beyond it every float result of gelu is 0
T_MIN = 1.0 / (1.0 + Z_MAX / 2.0)
DEGREE = 34


def g(t):
    z = 2.0 * (1.0 / t - 1.0)
    return math.log(math.erfc(z) / t) + z * z


def to_unit(t):  # [T_MIN, 1] -> [-1, 1]
    return (2.0 * t - (T_MIN + 1.0)) / (1.0 - T_MIN)


def fit(n):
    nodes = [math.cos(math.pi * (j + 0.5) / n) for j in range(n)]
    values = [g((u * (1.0 - T_MIN) + (T_MIN + 1.0)) / 2.0) for u in nodes]
    coefficients = []
    for k in range(n):
        s = sum(values[j] * math.cos(math.pi * k * (j + 0.5) / n) for j in range(n))
        coefficients.append((2.0 if k else 1.0) * s / n)
    return coefficients


def clenshaw(c, u):
    b1 = b2 = 0.0
    for ck in reversed(c[1:]):
        b1, b2 = 2.0 * u * b1 - b2 + ck, b1
    return u * b1 - b2 + c[0]


def erfc_model(c, z):
    t = 1.0 / (1.0 + z / 2.0)
    return t * math.exp(-z * z + clenshaw(c, to_unit(t)))


c = fit(DEGREE + 1)
worst = 0.0
for i in range(1, 200001):
    z = Z_MAX * i / 200000.0
    exact = math.erfc(z)
    if exact > 1e-300:
        worst = max(worst, abs(erfc_model(c, z) - exact) / exact)
print(f"// T_MIN = {T_MIN!r}, degree {DEGREE}, max relative error {worst:.2e}")
for value in c:
    print(f"    {value!r},")
