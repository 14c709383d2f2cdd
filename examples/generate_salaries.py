#!/usr/bin/env python3
"""Generate the mlprod demo data set: a synthetic developer-salary survey.

    python3 examples/generate_salaries.py salaries.csv          # 20 000 rows, seed 20240607
    python3 examples/generate_salaries.py - --seed 1 --rows 500  # to stdout

Python 3 standard library only. The same seed always gives byte-identical output.

The true model (the constants below, documented in examples/README.md):

    salary = B0 + B1*years_code + B2*years_code^2
             + COUNTRY_EFFECT[country] + (REMOTE_EFFECT if remote == "yes") + N(0, NOISE_SD^2)

education, company_size and age carry no effect of their own (age is correlated with
years_code, so it is a decoy for `salary ~ .`). Some cells are missing (written as "" and,
for a few, "NA"); the true salary always uses the real value, the CSV hides it.
"""

import argparse
import csv
import random
import sys

DEFAULT_SEED = 20240607
DEFAULT_ROWS = 20000

COLUMNS = ["salary", "years_code", "country", "remote", "education", "company_size", "age"]

# True coefficients of the salary model.
B0 = 52000.0          # intercept: the reference country (Brazil, first level alphabetically), on-site, 0 years
B1 = 2500.0           # per year of coding experience
B2 = -35.0            # per squared year: experience pays off less and less (peak at -B1/(2*B2) ~ 35.7 years)
REMOTE_EFFECT = 6000.0  # remote == "yes" versus "no"
NOISE_SD = 9000.0     # standard deviation of the normal noise

# Country effects relative to Brazil (the first level alphabetically, R's treatment-coding reference).
COUNTRY_EFFECT = {
    "Brazil": 0.0,
    "France": 14000.0,
    "Germany": 21000.0,
    "India": -16000.0,
    "United Kingdom": 24000.0,
    "United States": 45000.0,
}
# How often each country appears in the survey.
COUNTRY_WEIGHTS = {
    "United States": 0.30,
    "Germany": 0.17,
    "India": 0.18,
    "United Kingdom": 0.13,
    "Brazil": 0.10,
    "France": 0.12,
}
REMOTE_SHARE = 0.35

EDUCATION_LEVELS = ["Bachelor", "Master", "PhD", "Secondary", "Other"]
EDUCATION_WEIGHTS = [0.45, 0.30, 0.06, 0.12, 0.07]

COMPANY_SIZES = [1, 5, 10, 20, 50, 100, 250, 500, 1000, 5000, 10000, 50000]

YEARS_MAX = 40

# Share of missing cells per column (salary, remote and education are never missing).
MISSING_SHARE = {
    "years_code": 0.02,
    "country": 0.01,
    "company_size": 0.004,
    "age": 0.003,
}
NA_SHARE = 0.2  # of the missing cells, this share is written "NA" instead of ""


def true_salary(years_code, country, remote):
    """The noiseless salary of the true model."""
    return (B0 + B1 * years_code + B2 * years_code * years_code
            + COUNTRY_EFFECT[country] + (REMOTE_EFFECT if remote == "yes" else 0.0))


def _pick(rng, weights):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def generate(seed=DEFAULT_SEED, rows=DEFAULT_ROWS):
    """Yields the header, then `rows` lists of cell strings."""
    rng = random.Random(seed)
    yield list(COLUMNS)
    for _ in range(rows):
        # Experience: spread over the whole 0-40 range, more juniors than veterans.
        years = int(round(rng.triangular(0, YEARS_MAX, 6)))
        years = max(0, min(YEARS_MAX, years))
        country = _pick(rng, COUNTRY_WEIGHTS)
        remote = "yes" if rng.random() < REMOTE_SHARE else "no"
        education = rng.choices(EDUCATION_LEVELS, weights=EDUCATION_WEIGHTS)[0]
        company_size = rng.choice(COMPANY_SIZES)
        age = int(round(21 + years + rng.gauss(0, 3) + rng.expovariate(1 / 3)))
        salary = true_salary(years, country, remote) + rng.gauss(0, NOISE_SD)
        salary = int(round(salary))

        cells = {
            "salary": str(salary),
            "years_code": str(years),
            "country": country,
            "remote": remote,
            "education": education,
            "company_size": str(company_size),
            "age": str(age),
        }
        for col, share in MISSING_SHARE.items():
            if rng.random() < share:
                cells[col] = "NA" if rng.random() < NA_SHARE else ""
        yield [cells[c] for c in COLUMNS]


def write_csv(out, seed=DEFAULT_SEED, rows=DEFAULT_ROWS):
    writer = csv.writer(out, lineterminator="\n")
    for row in generate(seed, rows):
        writer.writerow(row)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default="-", help="output CSV file (default: stdout)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    args = parser.parse_args(argv)
    if args.path == "-":
        write_csv(sys.stdout, args.seed, args.rows)
    else:
        with open(args.path, "w", newline="", encoding="utf-8") as f:
            write_csv(f, args.seed, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
