#!/usr/bin/python3
"""Reference outputs for the OLS summary diagnostics and the HC0-HC3 robust standard errors.

Run with Debian's python3-statsmodels (not needed by CI, which reads the committed ols_refs.json):
  /usr/bin/python3 tests/reference/generate_ols_refs.py > tests/reference/ols_refs.json

Cases: NIST's Longley (read from tests/data/nist-strd/Longley.dat, and
written into the JSON) and one generated heteroskedastic, skewed dataset (fixed numpy seed, also
written into the JSON), so the C++ test fits exactly the same numbers.

Per case, as statsmodels' OLS summary computes them: durbin_watson, jarque_bera (+ p, chi2(2)),
omnibus (+ p: scipy.stats.normaltest, D'Agostino-Pearson K^2), skew and kurtosis (not excess) of
the residuals, condition_number (results.condition_number: ratio of the largest to the smallest
singular value of the unscaled design), and the HC0-HC3 standard errors (cov_type='HCx').

statsmodels takes the singular values from a double SVD of X, which gets the smallest one only to
about eps * cond relative (Longley: cond 4.9e9, so about 6 digits). condition_number_exact is the
same ratio from a 50-digit SVD (mpmath), which is what the test holds mlprod to; the JSON keeps
both so the difference is visible.

filip_exact: NIST's Filip (y ~ x + ... + x^10, read by the test from the NIST file) is beyond
statsmodels in double (its pinv loses the HC standard errors entirely), so its condition number
and HC3 standard errors are computed here in 60-digit arithmetic with mpmath (QR, R^-1, leverages,
sandwich), exercising mlprod's ill-conditioned (long double, pivoted) path.
"""
import json
import os
import sys

import mpmath
import numpy as np
import scipy
import statsmodels
import statsmodels.api as sm
from statsmodels.stats.stattools import durbin_watson, jarque_bera, omni_normtest

HERE = os.path.dirname(os.path.abspath(__file__))
LONGLEY = os.path.join(HERE, "..", "data", "nist-strd", "Longley.dat")


def longley_case():
    with open(LONGLEY) as f:
        lines = f.read().splitlines()
    rows = [list(map(float, l.split())) for l in lines[60:76]]  # data: lines 61 to 76
    data = np.array(rows)
    return {
        "name": "longley",
        "formula": "y ~ x1 + x2 + x3 + x4 + x5 + x6",
        "columns": {"y": data[:, 0].tolist(),
                    **{f"x{k}": data[:, k].tolist() for k in range(1, 7)}},
    }


def generated_case():
    # Heteroskedastic (sd grows with |x1|) and right-skewed (centred log-normal) errors, so the
    # robust SEs differ from the classic ones and skew/kurtosis/JB/omnibus are far from normal.
    rng = np.random.default_rng(20240604)
    n = 60
    x1 = rng.normal(0, 1, n)
    x2 = rng.uniform(-2, 3, n)
    x3 = rng.normal(5, 2, n)
    noise = (rng.lognormal(0.0, 0.8, n) - np.exp(0.32)) * (0.5 + np.abs(x1))
    y = 1.5 + 2.0 * x1 - 0.7 * x2 + 0.3 * x3 + noise
    return {
        "name": "generated",
        "seed": 20240604,
        "formula": "y ~ x1 + x2 + x3",
        "columns": {"y": y.tolist(), "x1": x1.tolist(), "x2": x2.tolist(), "x3": x3.tolist()},
    }


def exact_condition_number(x):
    mpmath.mp.dps = 50
    s = mpmath.svd_r(mpmath.matrix(x.tolist()), compute_uv=False)
    values = [s[i] for i in range(len(s))]
    return float(max(values) / min(values))


def filip_exact():
    path = os.path.join(os.path.dirname(LONGLEY), "Filip.dat")
    with open(path) as f:
        lines = f.read().splitlines()
    data = np.array([list(map(float, l.split())) for l in lines[60:] if l.strip()])
    y, xv = data[:, 0], data[:, 1]
    x = np.column_stack([xv ** k for k in range(11)])
    mpmath.mp.dps = 60
    a, yy = mpmath.matrix(x.tolist()), mpmath.matrix(y.tolist())
    n, p = x.shape
    s = mpmath.svd_r(a, compute_uv=False)
    s = [s[i] for i in range(len(s))]
    q, r = mpmath.qr(a)
    ri = r[:p, :p] ** -1
    e = yy - a * (ri * (q[:, :p].T * yy))
    qn = a * ri
    meat = mpmath.matrix(p, p)
    for i in range(n):
        h = sum(qn[i, j] ** 2 for j in range(p))
        w = e[i] ** 2 / (1 - h) ** 2
        for j in range(p):
            for k in range(p):
                meat[j, k] += w * qn[i, j] * qn[i, k]
    cov = ri * meat * ri.T
    return {"formula": "y ~ x + I(x^2) + ... + I(x^10)", "n": n,
            "condition_number": float(max(s) / min(s)),
            "hc3_std_error": [float(mpmath.sqrt(cov[k, k])) for k in range(p)]}


def reference(case):
    cols = case["columns"]
    names = [c for c in cols if c != "y"]
    y = np.array(cols["y"])
    x = sm.add_constant(np.column_stack([np.array(cols[c]) for c in names]), prepend=True)
    fit = sm.OLS(y, x).fit()
    resid = fit.resid
    jb, jb_p, skew, kurtosis = jarque_bera(resid)
    omnibus, omnibus_p = omni_normtest(resid)
    out = dict(case)
    out["terms"] = ["(Intercept)"] + names
    out["estimate"] = fit.params.tolist()
    out["std_error"] = {"classic": fit.bse.tolist()}
    for hc in ("HC0", "HC1", "HC2", "HC3"):
        out["std_error"][hc] = sm.OLS(y, x).fit(cov_type=hc).bse.tolist()
    out["durbin_watson"] = float(durbin_watson(resid))
    out["jarque_bera"] = float(jb)
    out["jarque_bera_p_value"] = float(jb_p)
    out["omnibus"] = float(omnibus)
    out["omnibus_p_value"] = float(omnibus_p)
    out["skew"] = float(skew)
    out["kurtosis"] = float(kurtosis)
    out["condition_number"] = float(fit.condition_number)
    out["condition_number_exact"] = exact_condition_number(x)
    return out


def main():
    doc = {
        "generator": "tests/reference/generate_ols_refs.py",
        "versions": {"statsmodels": statsmodels.__version__, "scipy": scipy.__version__,
                     "numpy": np.__version__, "mpmath": mpmath.__version__},
        "cases": [reference(longley_case()), reference(generated_case())],
        "filip_exact": filip_exact(),
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
