#!/usr/bin/env python3
"""Reference outputs for the logistic, ridge/lasso/elasticnet and kmeans kinds.

Run with Debian's python3-statsmodels and python3-sklearn (not needed by CI, which reads the
committed kinds_refs.json):  python3 tests/reference/generate_kinds_refs.py > tests/reference/kinds_refs.json

Datasets are generated here with a fixed numpy seed and written into the JSON, so the C++ tests
fit exactly the same numbers.

Elastic net: mlprod follows glmnet (standardize=TRUE, 1/n sds), which also standardises y
internally: for a user lambda it solves, on Z (centred, scaled columns) and r = (y - ybar)/sy,
  1/(2n)|r - Z b|^2 + (lambda/sy) [ (1-a)/2 |b|^2 + a |b|_1 ],   beta = sy b / sd.
sklearn's ElasticNet minimises 1/(2n)|r - Z b|^2 + alpha [ l1_ratio |b|_1 + (1-l1_ratio)/2 |b|^2 ],
so the reference is sklearn on (Z, r) with alpha = lambda/sy, l1_ratio = a. Ridge (a = 0) is solved
in closed form instead (sklearn's coordinate descent is not meant for l1_ratio = 0).
"""
import json

import numpy as np
import statsmodels.api as sm
from sklearn.cluster import KMeans
from sklearn.linear_model import ElasticNet
from sklearn.metrics import roc_auc_score, silhouette_score


def logistic_case():
    rng = np.random.default_rng(20240501)
    n = 80
    x1 = rng.normal(0, 1, n)
    x2 = rng.normal(2, 1.5, n)
    eta = -0.5 + 1.2 * x1 - 0.6 * x2
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    x = sm.add_constant(np.column_stack([x1, x2]))
    res = sm.GLM(y, x, family=sm.families.Binomial()).fit(tol=1e-14, maxiter=100)
    prob = np.asarray(res.predict(x))
    return {
        "x1": x1.tolist(), "x2": x2.tolist(), "y": y.tolist(),
        "terms": ["(Intercept)", "x1", "x2"],
        "estimate": res.params.tolist(), "std_error": res.bse.tolist(),
        "z": res.tvalues.tolist(), "p": res.pvalues.tolist(),
        "deviance": float(res.deviance), "null_deviance": float(res.null_deviance),
        "log_likelihood": float(res.llf), "aic": float(res.aic),
        "auc": float(roc_auc_score(y, prob)),
        "accuracy": float(np.mean((prob >= 0.5) == (y > 0.5))),
        "new_x1": 0.3, "new_x2": 1.0,
        "new_prob": float(res.predict(np.array([[1.0, 0.3, 1.0]]))[0]),
    }


def glmnet_reference(x, y, lam, a):
    n = len(y)
    xm = x.mean(axis=0)
    xs = np.sqrt(((x - xm) ** 2).mean(axis=0))
    z = (x - xm) / xs
    ym = y.mean()
    ys = np.sqrt(((y - ym) ** 2).mean())
    r = (y - ym) / ys
    if a == 0:
        b = np.linalg.solve(z.T @ z / n + (lam / ys) * np.eye(x.shape[1]), z.T @ r / n)
    else:
        m = ElasticNet(alpha=lam / ys, l1_ratio=a, fit_intercept=False, tol=1e-14,
                       max_iter=1000000)
        m.fit(z, r)
        b = m.coef_
    beta = ys * b / xs
    return float(ym - beta @ xm), beta.tolist()


def elasticnet_case():
    rng = np.random.default_rng(7)
    n = 60
    x = np.column_stack([rng.normal(0, 1, n), rng.normal(5, 2, n), rng.normal(-1, 0.5, n),
                         rng.uniform(0, 10, n)])
    y = 3 + 2 * x[:, 0] - 0.8 * x[:, 1] + 0.0 * x[:, 2] + 0.3 * x[:, 3] + rng.normal(0, 1.5, n)
    fits = []
    for kind, a, lam in [("lasso", 1.0, 0.1), ("lasso", 1.0, 0.7), ("elasticnet", 0.5, 0.2),
                         ("elasticnet", 0.3, 1.0), ("ridge", 0.0, 0.5)]:
        b0, beta = glmnet_reference(x, y, lam, a)
        fits.append({"kind": kind, "alpha": a, "lambda": lam, "intercept": b0, "beta": beta})
    return {"x": [x[:, j].tolist() for j in range(4)], "y": y.tolist(), "fits": fits}


def kmeans_case():
    rng = np.random.default_rng(11)
    centres = np.array([[0.0, 0.0], [8.0, 1.0], [3.0, 9.0]])
    pts = np.vstack([c + rng.normal(0, 0.7, (30, 2)) for c in centres])
    km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(pts)
    return {"x1": pts[:, 0].tolist(), "x2": pts[:, 1].tolist(), "k": 3,
            "inertia": float(km.inertia_),
            "silhouette": float(silhouette_score(pts, km.labels_)),
            "centers": sorted(km.cluster_centers_.tolist())}


def main():
    out = {"generator": "tests/reference/generate_kinds_refs.py",
           "logistic": logistic_case(), "elasticnet": elasticnet_case(),
           "kmeans": kmeans_case()}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
