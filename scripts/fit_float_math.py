#!/usr/bin/env python3
"""Fits the float polynomials of compiler/codegen/float_math.cpp and prints them.

Each is a Chebyshev interpolant (near-minimax) of a smooth function, with coefficients rounded
to float; the printed error is the largest relative error of the approximated function over a
dense grid, evaluated in double with the float coefficients (so it includes their rounding but
not the rounding of a float evaluation, which the accuracy tool measures).

Run: python3 scripts/fit_float_math.py
"""
import math
import struct
from fractions import Fraction


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def interpolate(g, lo, hi, n):
    """Monomial coefficients of the degree n-1 interpolant of g at Chebyshev nodes of [lo, hi]."""
    xs = [(math.cos(math.pi * (j + 0.5) / n) * (hi - lo) + (hi + lo)) / 2 for j in range(n)]
    rows = [[Fraction(x) ** k for k in range(n)] + [Fraction(g(x))] for x in xs]
    for c in range(n):  # Gauss-Jordan in exact arithmetic
        p = max(range(c, n), key=lambda r: abs(rows[r][c]))
        rows[c], rows[p] = rows[p], rows[c]
        for r in range(n):
            if r != c:
                f = rows[r][c] / rows[c][c]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[c])]
    return [f32(float(rows[i][n] / rows[i][i])) for i in range(n)]


def horner(c, x):
    s = c[-1]
    for a in reversed(c[:-1]):
        s = s * x + a
    return s


def report(name, c, worst):
    print(f"// {name}: max relative error {worst:.2e} ({worst / 2**-24:.2f} ULP)")
    print("   ", ", ".join(repr(v) for v in c))


def grid(lo, hi, n=20000):
    return [lo + (hi - lo) * i / n for i in range(n + 1)]


HALF_LN2 = math.log(2) / 2

# expm1(r) = r + r^2 q(r), |r| <= ln2/2 (the precise split, for expm1).
q = interpolate(lambda r: (math.expm1(r) - r) / (r * r) if abs(r) > 1e-4 else 0.5 + r / 6,
                -HALF_LN2, HALF_LN2, 6)
report("expm1 q", q, max(abs(r + r * r * horner(q, r) - math.expm1(r)) / abs(math.expm1(r))
                        for r in grid(-HALF_LN2, HALF_LN2) if r))

# exp(r) = 1 + r g(r) (the fast split).
g = interpolate(lambda r: math.expm1(r) / r if r else 1.0, -HALF_LN2, HALF_LN2, 6)
report("exp g", g, max(abs(1 + r * horner(g, r) - math.exp(r)) / math.exp(r)
                      for r in grid(-HALF_LN2, HALF_LN2)))

# log1p(u) = 2s (1 + w h(w)), s = u/(2+u), w = s^2 in [0, 1/9].
def atanh_h(w):
    s = math.sqrt(w)
    return (math.atanh(s) / s - 1) / w if w > 1e-6 else 1 / 3 + w / 5


h = interpolate(atanh_h, 0, 1 / 9, 5)
report("log1p h", h, max(abs(2 * (u / (2 + u)) * (1 + (u / (2 + u))**2 * horner(h, (u / (2 + u))**2))
                             - math.log1p(u)) / math.log1p(u) for u in grid(1e-6, 1)))

# erfc(z) = exp(-z^2) t H(t - T_MID), t = 1/(1 + A z), z in [0, Z_MAX]; printed halved (the
# kernel wants erfc/2).
A, Z_MAX = 0.7, 9.5
T_LO, T_HI = 1 / (1 + A * Z_MAX), 1.0
T_MID = f32((T_LO + T_HI) / 2)


def erfcx_over_t(u):
    t = u + T_MID
    z = (1 / t - 1) / A
    return math.exp(z * z) * math.erfc(z) / t


H = interpolate(erfcx_over_t, T_LO - T_MID, T_HI - T_MID, 12)
report(f"erfcx H (A = {A}, T_MID = {T_MID!r})", [v / 2 for v in H],
       max(abs(horner(H, u) - erfcx_over_t(u)) / erfcx_over_t(u) for u in grid(T_LO - T_MID, T_HI - T_MID)))
